package keys

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

func TestServeJWKS(t *testing.T) {
	m, _ := readyManager(t)
	srv := httptest.NewServer(http.HandlerFunc(m.ServeJWKS))
	defer srv.Close()

	tests := []struct {
		method   string
		status   int
		wantBody bool
	}{
		{http.MethodGet, http.StatusOK, true},
		{http.MethodHead, http.StatusOK, false},
		{http.MethodPost, http.StatusMethodNotAllowed, false},
		{http.MethodDelete, http.StatusMethodNotAllowed, false},
	}
	for _, tt := range tests {
		t.Run(tt.method, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, srv.URL, nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
			}
			if tt.status != http.StatusOK {
				if resp.Header.Get("Allow") != "GET, HEAD" {
					t.Fatalf("Allow = %q", resp.Header.Get("Allow"))
				}
				return
			}
			for name, want := range map[string]string{
				"Content-Type":                "application/json",
				"Cache-Control":               "public, max-age=300",
				"Access-Control-Allow-Origin": "*",
			} {
				if got := resp.Header.Get(name); got != want {
					t.Errorf("%s = %q, want %q", name, got, want)
				}
			}
			if !tt.wantBody {
				if len(body) != 0 {
					t.Fatal("HEAD answered with a body")
				}
				return
			}
			var set jose.JSONWebKeySet
			if err := json.Unmarshal(body, &set); err != nil {
				t.Fatalf("decode JWKS: %v", err)
			}
			algs := map[string]bool{}
			for _, k := range set.Keys {
				if !k.IsPublic() || k.Use != "sig" || k.KeyID == "" {
					t.Fatalf("published key %q: public=%v use=%q", k.KeyID, k.IsPublic(), k.Use)
				}
				algs[k.Algorithm] = true
			}
			if !algs[AlgRS256] || !algs[AlgES256] || len(set.Keys) != 2 {
				t.Fatalf("JWKS has %d keys, algs %v; want one RS256 and one ES256", len(set.Keys), algs)
			}
			var raw struct {
				Keys []map[string]any `json:"keys"`
			}
			_ = json.Unmarshal(body, &raw)
			for _, k := range raw.Keys {
				for _, private := range []string{"d", "p", "q", "dp", "dq", "qi"} {
					if _, ok := k[private]; ok {
						t.Fatalf("JWKS key carries private parameter %q", private)
					}
				}
			}
			if strings.Contains(string(body), "PRIVATE") {
				t.Fatal("JWKS contains private key material")
			}
		})
	}
}
