package server_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/server/manage"
)

func TestDiscovery(t *testing.T) {
	e := newEnv(t, backends[0].dsn(t))
	resp, err := http.Get(e.issuer + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Error("discovery is not open to every origin")
	}
	var doc map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"response_types_supported":              {"code"},
		"grant_types_supported":                 {"authorization_code", "refresh_token", "client_credentials"},
		"code_challenge_methods_supported":      {"S256"},
		"id_token_signing_alg_values_supported": {"RS256", "ES256"},
		"subject_types_supported":               {"public"},
		"token_endpoint_auth_methods_supported": {"none", "client_secret_basic", "client_secret_post", "private_key_jwt"},
	}
	for k, v := range want {
		var got []string
		for _, x := range doc[k].([]any) {
			got = append(got, x.(string))
		}
		if !slices.Equal(got, v) {
			t.Errorf("%s = %v, want %v", k, got, v)
		}
	}
	if doc["issuer"] != e.issuer || doc["authorization_response_iss_parameter_supported"] != true {
		t.Errorf("issuer/iss support: %v %v", doc["issuer"], doc["authorization_response_iss_parameter_supported"])
	}
}

func TestPageHeadersAndCrossSiteLogin(t *testing.T) {
	e := newEnv(t, backends[0].dsn(t))
	_, pw := e.user("sara")
	c, s := e.client(manage.ClientSpec{SkipConsent: true})
	r := e.rp(c, s)
	b := newBrowser(t)
	resp, err := b.Get(r.authURL().url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loginURL, _ := resp.Request.URL.Parse(resp.Header.Get("Location"))
	resp, err = b.Get(loginURL.String())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	h := resp.Header
	if !strings.Contains(h.Get("Content-Security-Policy"), "default-src 'none'") || strings.Contains(h.Get("Content-Security-Policy"), "form-action") {
		t.Errorf("CSP = %q", h.Get("Content-Security-Policy"))
	}
	if h.Get("Referrer-Policy") != "no-referrer" || h.Get("Cache-Control") != "no-store" {
		t.Errorf("Referrer-Policy %q, Cache-Control %q", h.Get("Referrer-Policy"), h.Get("Cache-Control"))
	}
	forms, _, _ := parseForms(resp.Body)
	if len(forms) != 1 || len(forms[0].buttons) == 0 {
		t.Fatal("no login form")
	}
	for _, c := range b.Jar.Cookies(loginURL) {
		if c.Name != "gh_flow" {
			t.Errorf("unexpected cookie %s before login", c.Name)
		}
	}
	// A cross-site POST of the login form is refused.
	vals := url.Values{"ar": {forms[0].fields["ar"]}, "username": {"sara"}, "password": {pw}}
	req, _ := http.NewRequest(http.MethodPost, e.issuer+"/login", strings.NewReader(vals.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp2, err := b.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp2.Body.Close()
	if resp2.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site login POST: %d, want 403", resp2.StatusCode)
	}
}

func TestDatabaseOutageAnswers503(t *testing.T) {
	e := newEnv(t, backends[0].dsn(t))
	c, s := e.client(manage.ClientSpec{GrantTypes: []string{"client_credentials"}})
	if err := e.store.Close(); err != nil {
		t.Fatal(err)
	}
	status, body, h := e.postForm("/oauth2/token", url.Values{"grant_type": {"client_credentials"}}, c.ID, s)
	if status != http.StatusServiceUnavailable || body["error"] != "temporarily_unavailable" || h.Get("Retry-After") == "" {
		t.Errorf("token endpoint during outage: %d %v Retry-After=%q", status, body, h.Get("Retry-After"))
	}
	resp, err := http.Get(e.issuer + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("readyz during outage: %d", resp.StatusCode)
	}
}

// Every log line written while serving a request carries its request id.
func TestLogLinesCarryRequestID(t *testing.T) {
	e := newEnv(t, backends[0].dsn(t))
	c, _ := e.client(manage.ClientSpec{})
	status, _, h := e.postForm("/oauth2/token", url.Values{"grant_type": {"client_credentials"}}, c.ID, "wrong-secret")
	if status != http.StatusUnauthorized {
		t.Fatalf("status %d", status)
	}
	id := h.Get("X-Request-Id")
	var handlerLine, accessLine bool
	for _, line := range strings.Split(logSink.String(), "\n") {
		if !strings.Contains(line, `"request_id":"`+id+`"`) {
			continue
		}
		handlerLine = handlerLine || strings.Contains(line, "token request failed")
		accessLine = accessLine || strings.Contains(line, "http request")
	}
	if id == "" || !handlerLine || !accessLine {
		t.Errorf("request %q: handler line %v, access line %v", id, handlerLine, accessLine)
	}
}
