package server_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/gatehouse/gatehouse/server/manage"
)

func TestClientAuthenticationRateLimit(t *testing.T) {
	e := newEnv(t, backends[0].dsn(t))
	c, s := e.client(manage.ClientSpec{GrantTypes: []string{"client_credentials"}})
	form := url.Values{"grant_type": {"client_credentials"}}
	for i := range 20 {
		status, _, _ := e.postForm("/oauth2/token", form, c.ID, "wrong-secret")
		if status != http.StatusUnauthorized {
			t.Fatalf("failure %d: status %d, want 401", i+1, status)
		}
	}
	for _, path := range []string{"/oauth2/token", "/oauth2/introspect", "/oauth2/revoke"} {
		status, body, h := e.postForm(path, url.Values{"grant_type": {"client_credentials"}, "token": {"x"}}, c.ID, s)
		if status != http.StatusTooManyRequests || h.Get("Retry-After") == "" || body["error"] == nil {
			t.Errorf("%s after 20 failures: %d %v Retry-After=%q", path, status, body, h.Get("Retry-After"))
		}
	}
}
