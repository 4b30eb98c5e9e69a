package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/server"
	"github.com/gatehouse/gatehouse/server/manage"
)

func TestCORS(t *testing.T) {
	e := newEnv(t, backends[0].dsn(t))
	_, pw := e.user("uma")
	spa, _ := e.client(manage.ClientSpec{Public: true, SkipConsent: true, RedirectURIs: []string{"https://spa.example/cb"}})
	other, _ := e.client(manage.ClientSpec{Public: true, RedirectURIs: []string{"https://other.example/cb"}})
	r := e.rp(spa, "")
	tok := r.fullLogin(newBrowser(t), person{"uma", pw, ""})

	call := func(method, path, origin string, form url.Values, bearer string) http.Header {
		var body *strings.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		} else {
			body = strings.NewReader("")
		}
		req, _ := http.NewRequest(method, e.issuer+path, body)
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		req.Header.Set("Origin", origin)
		_, _, h := e.do(req)
		return h
	}
	refresh := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}, "client_id": {spa.ID}}
	for _, tc := range []struct {
		name, method, path, origin string
		form                       url.Values
		bearer                     string
		want                       string
	}{
		{"token, own origin", "POST", "/oauth2/token", "https://spa.example", refresh, "", "https://spa.example"},
		{"token, other client's origin", "POST", "/oauth2/token", "https://other.example", refresh, "", ""},
		{"token, unknown origin", "POST", "/oauth2/token", "https://evil.example", refresh, "", ""},
		{"userinfo, token's client", "GET", "/userinfo", "https://spa.example", nil, tok.AccessToken, "https://spa.example"},
		{"userinfo, other origin", "GET", "/userinfo", "https://other.example", nil, tok.AccessToken, ""},
		{"revoke, own origin", "POST", "/oauth2/revoke", "https://spa.example", url.Values{"token": {"x"}, "client_id": {spa.ID}}, "", "https://spa.example"},
		{"preflight, registered origin", "OPTIONS", "/oauth2/token", "https://other.example", nil, "", "https://other.example"},
		{"preflight, unknown origin", "OPTIONS", "/oauth2/token", "https://evil.example", nil, "", ""},
		{"login page never", "GET", "/login", "https://spa.example", nil, "", ""},
	} {
		h := call(tc.method, tc.path, tc.origin, tc.form, tc.bearer)
		if got := h.Get("Access-Control-Allow-Origin"); got != tc.want {
			t.Errorf("%s: Allow-Origin = %q, want %q", tc.name, got, tc.want)
		}
		if h.Get("Access-Control-Allow-Credentials") != "" {
			t.Errorf("%s: credentials allowed", tc.name)
		}
	}
	_ = other
}

func TestRefreshAbsoluteLifetime(t *testing.T) {
	e := newEnv(t, backends[0].dsn(t), func(c *server.Config) {
		c.Lifetimes = server.DefaultLifetimes()
		c.Lifetimes.RefreshAbsolute = time.Nanosecond
	})
	_, pw := e.user("vera")
	c, s := e.client(manage.ClientSpec{SkipConsent: true})
	r := e.rp(c, s)
	tok := r.fullLogin(newBrowser(t), person{"vera", pw, ""})
	if status, body := r.refresh(tok.RefreshToken); status != http.StatusBadRequest || body["error"] != "invalid_grant" {
		t.Fatalf("refresh past the absolute lifetime: %d %v", status, body)
	}
}
