package server_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/server/manage"
)

var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// Malformed requests get a 4xx, never a 5xx, a panic or a hang.
func TestMalformedRequestsNever500(t *testing.T) {
	e := newEnv(t, backends[0].dsn(t))
	c, s := e.client(manage.ClientSpec{})
	cases := []struct {
		method, path, body, contentType string
		basic                           bool
	}{
		{"GET", "/oauth2/auth", "", "", false},
		{"GET", "/oauth2/auth?client_id=" + c.ID, "", "", false},
		{"GET", "/oauth2/auth?client_id=" + c.ID + "&response_type=token&redirect_uri=http://127.0.0.1:9999/callback", "", "", false},
		{"GET", "/oauth2/auth?client_id=" + c.ID + "&response_type=code&redirect_uri=http://127.0.0.1:9999/callback&scope=unknown", "", "", false},
		{"GET", "/oauth2/auth?client_id=" + c.ID + "&response_type=code&redirect_uri=http://127.0.0.1:9999/callback&prompt=bogus", "", "", false},
		{"GET", "/oauth2/auth?client_id=" + c.ID + "&response_type=code&redirect_uri=http://127.0.0.1:9999/callback&request=eyJ", "", "", false},
		{"GET", "/oauth2/auth?%zz", "", "", false},
		{"POST", "/oauth2/auth", "%zz=%", "application/x-www-form-urlencoded", false},
		{"GET", "/oauth2/auth/resume", "", "", false},
		{"GET", "/oauth2/auth/resume?ar=nope", "", "", false},
		{"POST", "/oauth2/token", "", "", false},
		{"POST", "/oauth2/token", "grant_type=password&username=a&password=b", "application/x-www-form-urlencoded", true},
		{"POST", "/oauth2/token", "grant_type=authorization_code&code=garbage", "application/x-www-form-urlencoded", true},
		{"POST", "/oauth2/token", "grant_type=refresh_token&refresh_token=ory_rt_x.y", "application/x-www-form-urlencoded", true},
		{"POST", "/oauth2/token", "grant_type=client_credentials&client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer&client_assertion=a.b.c", "application/x-www-form-urlencoded", false},
		{"POST", "/oauth2/token", "{\"json\":true}", "application/json", true},
		{"POST", "/oauth2/token", strings.Repeat("a=b&", 40000), "application/x-www-form-urlencoded", true},
		{"POST", "/oauth2/introspect", "", "", false},
		{"POST", "/oauth2/introspect", "token=", "application/x-www-form-urlencoded", true},
		{"POST", "/oauth2/revoke", "token=x", "application/x-www-form-urlencoded", false},
		{"GET", "/userinfo", "", "", false},
		{"POST", "/userinfo", "access_token=a.b.c", "application/x-www-form-urlencoded", false},
		{"GET", "/login", "", "", false},
		{"GET", "/login?ar=x", "", "", false},
		{"POST", "/login", "ar=x&username=a&password=b", "application/x-www-form-urlencoded", false},
		{"GET", "/consent?ar=x", "", "", false},
		{"POST", "/consent", "ar=x&consent=accept", "application/x-www-form-urlencoded", false},
		{"POST", "/logout", "", "application/x-www-form-urlencoded", false},
		{"DELETE", "/oauth2/token", "", "", false},
		{"GET", "/nope", "", "", false},
	}
	for _, tc := range cases {
		req, _ := http.NewRequest(tc.method, e.issuer+tc.path, strings.NewReader(tc.body))
		if tc.contentType != "" {
			req.Header.Set("Content-Type", tc.contentType)
		}
		req.Header.Set("Origin", e.issuer)
		if tc.basic {
			req.SetBasicAuth(c.ID, s)
		}
		resp, err := noRedirects.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", tc.method, tc.path, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 500 || resp.StatusCode < 200 {
			t.Errorf("%s %.60s: status %d", tc.method, tc.path, resp.StatusCode)
		}
	}
}
