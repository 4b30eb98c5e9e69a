package relyingparty

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// provider is a minimal OpenID provider for the app's own tests: discovery
// and a JWKS with one RSA key. (The browser tests in e2e run the app
// against the real Gatehouse.)
type provider struct {
	srv *httptest.Server
	key *rsa.PrivateKey
}

func newProvider(t *testing.T) *provider {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p := &provider{key: key}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		iss := p.srv.URL
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer": iss, "authorization_endpoint": iss + "/auth", "token_endpoint": iss + "/token",
			"jwks_uri": iss + "/jwks", "userinfo_endpoint": iss + "/userinfo", "end_session_endpoint": iss + "/logout",
			"id_token_signing_alg_values_supported":          []string{"RS256"},
			"authorization_response_iss_parameter_supported": true,
		})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	})
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	return p
}

func newApp(t *testing.T, p *provider) *App {
	t.Helper()
	a, err := New(context.Background(), Config{
		Issuer: p.srv.URL, ClientID: "rp", ClientSecret: "rp-secret", RedirectURL: "http://localhost:5555/callback",
	})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// sign signs claims with key under kid k1 and the given typ header.
func sign(t *testing.T, key *rsa.PrivateKey, typ string, claims map[string]any) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithHeader("kid", "k1")
	if typ != "" {
		opts = opts.WithType(jose.ContentType(typ))
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func logoutClaims(iss string) map[string]any {
	now := time.Now()
	return map[string]any{
		"iss": iss, "aud": []string{"rp"}, "iat": now.Unix(), "exp": now.Add(2 * time.Minute).Unix(),
		"jti": rand.Text(), "sub": "user-1", "sid": "sid-1",
		"events": map[string]any{backchannelEvent: map[string]any{}},
	}
}

func postLogout(a *App, token string) int {
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, BackchannelLogoutPath, strings.NewReader(url.Values{"logout_token": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	a.Handler().ServeHTTP(rec, req)
	return rec.Code
}

func TestBackchannelLogout(t *testing.T) {
	p := newProvider(t)
	otherKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		key  *rsa.PrivateKey
		typ  string
		edit func(map[string]any)
		// ends is whether the session of sid-1 ends (status 200) or the token is refused (400).
		ends bool
	}{
		{name: "valid", typ: "logout+jwt", ends: true},
		{name: "typ with application/ prefix", typ: "application/logout+jwt", ends: true},
		{name: "sub only ends every session of the user", typ: "logout+jwt", edit: func(c map[string]any) { delete(c, "sid") }, ends: true},
		{name: "signed by another key", key: otherKey, typ: "logout+jwt"},
		{name: "no typ", typ: ""},
		{name: "typ JWT (an ID token's)", typ: "JWT"},
		{name: "another issuer", typ: "logout+jwt", edit: func(c map[string]any) { c["iss"] = "https://evil.example" }},
		{name: "another audience", typ: "logout+jwt", edit: func(c map[string]any) { c["aud"] = []string{"other-app"} }},
		{name: "expired", typ: "logout+jwt", edit: func(c map[string]any) { c["exp"] = time.Now().Add(-time.Minute).Unix() }},
		{name: "with a nonce", typ: "logout+jwt", edit: func(c map[string]any) { c["nonce"] = "abcdefgh" }},
		{name: "no events", typ: "logout+jwt", edit: func(c map[string]any) { delete(c, "events") }},
		{name: "event not an object", typ: "logout+jwt", edit: func(c map[string]any) { c["events"] = map[string]any{backchannelEvent: "yes"} }},
		{name: "no sub nor sid", typ: "logout+jwt", edit: func(c map[string]any) { delete(c, "sub"); delete(c, "sid") }},
		{name: "no jti", typ: "logout+jwt", edit: func(c map[string]any) { delete(c, "jti") }},
		{name: "no iat", typ: "logout+jwt", edit: func(c map[string]any) { delete(c, "iat") }},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := newApp(t, p)
			id := a.sessions.add(&session{sub: "user-1", sid: "sid-1"})
			other := a.sessions.add(&session{sub: "user-2", sid: "sid-2"})
			claims := logoutClaims(p.srv.URL)
			if c.edit != nil {
				c.edit(claims)
			}
			key := p.key
			if c.key != nil {
				key = c.key
			}
			token := sign(t, key, c.typ, claims)
			want := http.StatusBadRequest
			if c.ends {
				want = http.StatusOK
			}
			if got := postLogout(a, token); got != want {
				t.Fatalf("status %d, want %d", got, want)
			}
			if _, ok := a.sessions.get(id); ok == c.ends {
				t.Errorf("session of sid-1 still there: %v, want %v", ok, !c.ends)
			}
			if _, ok := a.sessions.get(other); !ok {
				t.Error("another user's session ended")
			}
			if c.ends {
				if !a.sessions.endedByProvider(id) {
					t.Error("the ended session is not remembered as ended by the provider")
				}
				if got := postLogout(a, token); got != http.StatusBadRequest {
					t.Errorf("a replayed logout token got %d, want 400", got)
				}
			}
		})
	}
	t.Run("no token", func(t *testing.T) {
		if got := postLogout(newApp(t, p), ""); got != http.StatusBadRequest {
			t.Errorf("status %d, want 400", got)
		}
	})
}

// startLogin posts the login form and returns the login cookie and the
// state sent to the provider.
func startLogin(t *testing.T, a *App) (*http.Cookie, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	a.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/login", nil))
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("login: %d", rec.Code)
	}
	loc, err := url.Parse(rec.Header().Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	q := loc.Query()
	if q.Get("code_challenge_method") != "S256" || q.Get("nonce") == "" || q.Get("state") == "" {
		t.Fatalf("authorization request without PKCE S256, nonce or state: %s", loc)
	}
	return rec.Result().Cookies()[0], q.Get("state")
}

func TestCallbackRefuses(t *testing.T) {
	p := newProvider(t)
	a := newApp(t, p)
	for _, c := range []struct {
		name   string
		cookie bool
		query  func(state string) url.Values
		status int
		says   string
	}{
		{"no login cookie", false, func(s string) url.Values { return url.Values{"state": {s}, "code": {"c"}, "iss": {p.srv.URL}} }, 400, "does not belong"},
		{"another state", true, func(string) url.Values {
			return url.Values{"state": {"forged-state"}, "code": {"c"}, "iss": {p.srv.URL}}
		}, 400, "does not belong"},
		{"another issuer (mix-up)", true, func(s string) url.Values {
			return url.Values{"state": {s}, "code": {"c"}, "iss": {"https://evil.example"}}
		}, 400, "unexpected provider"},
		{"no iss although the provider sends it", true, func(s string) url.Values { return url.Values{"state": {s}, "code": {"c"}} }, 400, "unexpected provider"},
		{"consent rejected", true, func(s string) url.Values {
			return url.Values{"state": {s}, "error": {"access_denied"}, "iss": {p.srv.URL}}
		}, 200, "did not allow"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cookie, state := startLogin(t, a)
			req := httptest.NewRequest(http.MethodGet, "/callback?"+c.query(state).Encode(), nil)
			if c.cookie {
				req.AddCookie(cookie)
			}
			rec := httptest.NewRecorder()
			a.Handler().ServeHTTP(rec, req)
			if rec.Code != c.status || !strings.Contains(rec.Body.String(), c.says) {
				t.Errorf("status %d, want %d saying %q:\n%s", rec.Code, c.status, c.says, rec.Body)
			}
			if strings.Contains(rec.Header().Get("Set-Cookie"), sessionCookie+"=") {
				t.Error("a session cookie was set")
			}
		})
	}
}
