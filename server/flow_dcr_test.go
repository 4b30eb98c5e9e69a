package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/server"
)

const dcrInitialToken = "initial-access-token-for-tests-0123456789"

func withDynamicRegistration(c *server.Config) {
	c.DynamicRegistration = true
	c.RegistrationTokens = []string{"another-initial-token-abcdefghijklmnop", dcrInitialToken}
}

// dcrCall sends a registration request with an optional bearer token.
func (e *env) dcrCall(method, path, token string, body any) (int, map[string]any) {
	e.t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, _ := http.NewRequest(method, e.issuer+path, rd)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	status, m, _ := e.do(req)
	return status, m
}

// registerClient registers a client dynamically and returns the response.
func (e *env) registerClient(meta map[string]any) map[string]any {
	e.t.Helper()
	status, body := e.dcrCall(http.MethodPost, "/oauth2/register", dcrInitialToken, meta)
	if status != http.StatusCreated {
		e.t.Fatalf("register: %d %v", status, body)
	}
	sec, _ := body["client_secret"].(string)
	tok, _ := body["registration_access_token"].(string)
	remember(sec, tok)
	if tok == "" {
		e.t.Fatalf("no registration_access_token: %v", body)
	}
	return body
}

func (e *env) discovery() map[string]any {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.issuer+"/.well-known/openid-configuration", nil)
	status, m, _ := e.do(req)
	if status != http.StatusOK {
		e.t.Fatalf("discovery: %d", status)
	}
	return m
}

func TestDynamicRegistrationOff(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		if status, _ := e.dcrCall(http.MethodPost, "/oauth2/register", dcrInitialToken, map[string]any{"redirect_uris": []string{"https://app.example/cb"}}); status != http.StatusNotFound {
			t.Fatalf("register while off: %d, want 404", status)
		}
		if _, ok := e.discovery()["registration_endpoint"]; ok {
			t.Fatal("discovery advertises registration_endpoint while off")
		}
	})
}

func TestDynamicRegistration(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		if got := e.discovery()["registration_endpoint"]; got != e.issuer+"/oauth2/register" {
			t.Fatalf("registration_endpoint = %v", got)
		}
		meta := map[string]any{"redirect_uris": []string{"http://127.0.0.1:9999/callback"}, "client_name": "Dyn"}
		for _, tok := range []string{"", "wrong-token", dcrInitialToken + "x"} {
			if status, body := e.dcrCall(http.MethodPost, "/oauth2/register", tok, meta); status != http.StatusUnauthorized || body["error"] != "invalid_token" {
				t.Fatalf("initial token %q: %d %v", tok, status, body)
			}
		}

		// Confidential client logs in
		{
			reg := e.registerClient(map[string]any{
				"redirect_uris": []string{"http://127.0.0.1:9999/callback"}, "client_name": "Dyn app",
				"grant_types": []string{"authorization_code", "refresh_token"}, "response_types": []string{"code"},
				"scope": "openid profile email offline_access", "token_endpoint_auth_method": "client_secret_basic",
				"software_id": "ignored-unknown-member",
			})
			id, sec := reg["client_id"].(string), reg["client_secret"].(string)
			if sec == "" || reg["client_secret_expires_at"] != float64(0) || reg["client_id_issued_at"] == nil {
				t.Fatalf("response: %v", reg)
			}
			if reg["registration_client_uri"] != e.issuer+"/oauth2/register/"+id {
				t.Fatalf("registration_client_uri = %v", reg["registration_client_uri"])
			}
			c, err := e.store.FindClient(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			if len(c.RegistrationTokenDigest) == 0 || bytes.Contains(c.RegistrationTokenDigest, []byte(reg["registration_access_token"].(string))) {
				t.Fatal("registration token not stored as a digest")
			}
			_, pw := e.user("dora")
			tok := e.rp(c, sec).fullLogin(newBrowser(t), person{"dora", pw, "accept"})
			if e.introspect(tok.AccessToken, id, sec)["active"] != true {
				t.Fatal("token of a dynamically registered client is not active")
			}
		}

		// Public client
		{
			reg := e.registerClient(map[string]any{"redirect_uris": []string{"http://127.0.0.1:9999/callback"}, "token_endpoint_auth_method": "none"})
			if _, ok := reg["client_secret"]; ok {
				t.Fatalf("public client got a secret: %v", reg)
			}
			c, err := e.store.FindClient(context.Background(), reg["client_id"].(string))
			if err != nil || !c.Public || c.SkipConsent {
				t.Fatalf("client %+v, %v", c, err)
			}
			_, pw := e.user("eddy")
			if tok := e.rp(c, "").fullLogin(newBrowser(t), person{"eddy", pw, "accept"}); tok.AccessToken == "" {
				t.Fatal("no access token")
			}
		}

		// Refused metadata
		{
			for _, tc := range []struct {
				name string
				meta map[string]any
				code string
			}{
				{"admin scope", map[string]any{"scope": "openid gatehouse:admin"}, "invalid_client_metadata"},
				{"http redirect", map[string]any{"redirect_uris": []string{"http://app.example/cb"}}, "invalid_redirect_uri"},
				{"no redirect", map[string]any{"redirect_uris": []string{}}, "invalid_redirect_uri"},
				{"private back-channel", map[string]any{"backchannel_logout_uri": "https://10.0.0.1/x"}, "invalid_client_metadata"},
				{"loopback back-channel", map[string]any{"backchannel_logout_uri": "https://[::1]/x"}, "invalid_client_metadata"},
				{"http back-channel", map[string]any{"backchannel_logout_uri": "http://rp.example/x"}, "invalid_client_metadata"},
				{"skip consent", map[string]any{"skip_consent": true}, "invalid_client_metadata"},
				{"implicit", map[string]any{"response_types": []string{"token"}}, "invalid_client_metadata"},
				{"private_key_jwt", map[string]any{"token_endpoint_auth_method": "private_key_jwt"}, "invalid_client_metadata"},
				{"wrong type", map[string]any{"redirect_uris": "https://app.example/cb"}, "invalid_client_metadata"},
			} {
				meta := map[string]any{"redirect_uris": []string{"https://app.example/cb"}}
				for k, v := range tc.meta {
					meta[k] = v
				}
				status, body := e.dcrCall(http.MethodPost, "/oauth2/register", dcrInitialToken, meta)
				if status != http.StatusBadRequest || body["error"] != tc.code {
					t.Errorf("%s: %d %v, want 400 %s", tc.name, status, body, tc.code)
				}
			}
			ok := e.registerClient(map[string]any{"redirect_uris": []string{"https://app.example/cb"}, "backchannel_logout_uri": "https://rp.example/logout"})
			if ok["backchannel_logout_uri"] != "https://rp.example/logout" {
				t.Fatalf("public https back-channel refused: %v", ok)
			}
		}

		// Configuration endpoint
		{
			reg := e.registerClient(map[string]any{"redirect_uris": []string{"http://127.0.0.1:9999/callback"}, "client_name": "Conf"})
			other := e.registerClient(map[string]any{"redirect_uris": []string{"https://other.example/cb"}})
			id, sec, rat := reg["client_id"].(string), reg["client_secret"].(string), reg["registration_access_token"].(string)
			path := "/oauth2/register/" + id
			for _, tok := range []string{"", "nope", other["registration_access_token"].(string), dcrInitialToken} {
				for _, m := range []string{http.MethodGet, http.MethodPut, http.MethodDelete} {
					if status, _ := e.dcrCall(m, path, tok, map[string]any{"redirect_uris": []string{"https://x.example/cb"}}); status != http.StatusUnauthorized {
						t.Fatalf("%s with a wrong token: %d", m, status)
					}
				}
			}
			status, got := e.dcrCall(http.MethodGet, path, rat, nil)
			if status != http.StatusOK || got["client_id"] != id || got["client_name"] != "Conf" {
				t.Fatalf("GET: %d %v", status, got)
			}
			if _, ok := got["client_secret"]; ok {
				t.Fatal("GET returns the secret")
			}
			status, got = e.dcrCall(http.MethodPut, path, rat, map[string]any{"client_id": id, "redirect_uris": []string{"http://127.0.0.1:9999/callback", "https://new.example/cb"}, "client_name": "Renamed", "scope": "openid"})
			if status != http.StatusOK || got["client_name"] != "Renamed" || got["scope"] != "openid" {
				t.Fatalf("PUT: %d %v", status, got)
			}
			for name, body := range map[string]map[string]any{
				"admin scope":   {"redirect_uris": []string{"https://a.example/cb"}, "scope": "gatehouse:admin"},
				"other id":      {"client_id": "someone-else", "redirect_uris": []string{"https://a.example/cb"}},
				"auth method":   {"redirect_uris": []string{"https://a.example/cb"}, "token_endpoint_auth_method": "none"},
				"skip consent":  {"redirect_uris": []string{"https://a.example/cb"}, "skip_consent": true},
				"http redirect": {"redirect_uris": []string{"http://a.example/cb"}},
			} {
				if status, got := e.dcrCall(http.MethodPut, path, rat, body); status != http.StatusBadRequest {
					t.Fatalf("PUT %s: %d %v", name, status, got)
				}
			}
			c, err := e.store.FindClient(context.Background(), id)
			if err != nil || c.Name != "Renamed" || strings.Join(c.Scopes, " ") != "openid" {
				t.Fatalf("after PUT: %+v %v", c, err)
			}
			_, pw := e.user("fred")
			tok := e.rp(c, sec, "openid").fullLogin(newBrowser(t), person{"fred", pw, "accept"})
			if !userinfoOK(t, e, tok.AccessToken) {
				t.Fatal("userinfo refused a live token")
			}
			if status, _ := e.dcrCall(http.MethodDelete, path, rat, nil); status != http.StatusNoContent {
				t.Fatalf("DELETE: %d", status)
			}
			if _, err := e.store.FindClient(context.Background(), id); err == nil {
				t.Fatal("client still exists")
			}
			if userinfoOK(t, e, tok.AccessToken) {
				t.Fatal("a token of the deleted client still works")
			}
			if status, _ := e.dcrCall(http.MethodGet, path, rat, nil); status != http.StatusUnauthorized {
				t.Fatalf("GET after DELETE: %d", status)
			}
		}
	}, withDynamicRegistration)
}

func userinfoOK(t *testing.T, e *env, accessToken string) bool {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.issuer+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+accessToken)
	status, _, _ := e.do(req)
	return status == http.StatusOK
}
