package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"golang.org/x/oauth2"

	"github.com/gatehouse/gatehouse/server/manage"
)

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

// refresh runs a refresh_token grant and returns status and body.
func (r *rp) refresh(refreshToken string) (int, map[string]any) {
	r.e.t.Helper()
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}}
	status, body, _ := r.e.postForm("/oauth2/token", form, r.client.ID, r.conf.ClientSecret)
	if rt, ok := body["refresh_token"].(string); ok {
		remember(rt)
	}
	if at, ok := body["access_token"].(string); ok {
		remember(at)
	}
	return status, body
}

func TestRefreshRotationAndReuseDetection(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		_, pw := e.user("judy")
		c, s := e.client(manage.ClientSpec{SkipConsent: true})
		r := e.rp(c, s)
		tok := r.fullLogin(newBrowser(t), person{"judy", pw, ""})

		status, body := r.refresh(tok.RefreshToken)
		if status != http.StatusOK {
			t.Fatalf("refresh: %d %v", status, body)
		}
		rotated := body["refresh_token"].(string)
		if rotated == "" || rotated == tok.RefreshToken {
			t.Fatal("refresh token not rotated")
		}
		if body["id_token"] == nil || body["scope"] == nil {
			t.Errorf("refresh response lacks id_token or scope: %v", body)
		}
		// The old access token was revoked by the rotation.
		if e.introspect(tok.AccessToken, c.ID, s)["active"] != false {
			t.Error("access token of the used refresh token is still active")
		}
		// Reuse of the old refresh token fails and revokes the family.
		if status, body := r.refresh(tok.RefreshToken); status != http.StatusBadRequest || body["error"] != "invalid_grant" {
			t.Fatalf("reuse: %d %v", status, body)
		}
		if status, body := r.refresh(rotated); status == http.StatusOK {
			t.Fatalf("family not revoked after reuse: %v", body)
		}
	})
}

func TestConcurrentRefreshExactlyOneWins(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		_, pw := e.user("kate")
		c, s := e.client(manage.ClientSpec{SkipConsent: true})
		r := e.rp(c, s)
		tok := r.fullLogin(newBrowser(t), person{"kate", pw, ""})
		const n = 8
		var wg sync.WaitGroup
		start := make(chan struct{})
		statuses := make(chan int, n)
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}
				req, _ := http.NewRequest(http.MethodPost, e.issuer+"/oauth2/token", strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.SetBasicAuth(url.QueryEscape(c.ID), url.QueryEscape(s))
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					statuses <- 0
					return
				}
				resp.Body.Close()
				statuses <- resp.StatusCode
			}()
		}
		close(start)
		wg.Wait()
		close(statuses)
		ok := 0
		for st := range statuses {
			switch st {
			case http.StatusOK:
				ok++
			case http.StatusBadRequest, http.StatusUnauthorized, http.StatusConflict, http.StatusServiceUnavailable:
			default:
				t.Errorf("unexpected status %d", st)
			}
		}
		if ok != 1 {
			t.Fatalf("%d requests succeeded, want exactly 1", ok)
		}
	})
}

func TestAuthorizationCodeReuseRevokesTokens(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		_, pw := e.user("liam")
		c, s := e.client(manage.ClientSpec{SkipConsent: true})
		r := e.rp(c, s)
		a := r.authURL()
		code, _ := r.login(newBrowser(t), a, person{"liam", pw, ""})
		tok := r.mustExchange(code, a)
		if _, err := r.exchange(code, a); err == nil {
			t.Fatal("second exchange of one code succeeded")
		}
		if e.introspect(tok.AccessToken, c.ID, s)["active"] != false {
			t.Error("access token from the first exchange is still active")
		}
		if status, _ := r.refresh(tok.RefreshToken); status == http.StatusOK {
			t.Error("refresh token from the first exchange still works")
		}
	})
}

func TestRevocation(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		_, pw := e.user("mona")
		c, s := e.client(manage.ClientSpec{SkipConsent: true})
		r := e.rp(c, s)
		tok := r.fullLogin(newBrowser(t), person{"mona", pw, ""})
		if e.introspect(tok.AccessToken, c.ID, s)["active"] != true {
			t.Fatal("fresh access token inactive")
		}
		status, _, _ := e.postForm("/oauth2/revoke", url.Values{"token": {tok.AccessToken}}, c.ID, s)
		if status != http.StatusOK {
			t.Fatalf("revoke: %d", status)
		}
		if e.introspect(tok.AccessToken, c.ID, s)["active"] != false {
			t.Error("revoked access token still active")
		}
		status, _, _ = e.postForm("/oauth2/revoke", url.Values{"token": {tok.RefreshToken}, "token_type_hint": {"refresh_token"}}, c.ID, s)
		if status != http.StatusOK {
			t.Fatalf("revoke refresh: %d", status)
		}
		if st, _ := r.refresh(tok.RefreshToken); st == http.StatusOK {
			t.Error("revoked refresh token still works")
		}
		// Wrong credentials are refused.
		if status, _, _ := e.postForm("/oauth2/revoke", url.Values{"token": {tok.AccessToken}}, c.ID, "wrong"); status != http.StatusUnauthorized {
			t.Errorf("revoke with a wrong secret: %d", status)
		}

		// A public client revokes with its client_id.
		pc, _ := e.client(manage.ClientSpec{Public: true, SkipConsent: true})
		pr := e.rp(pc, "")
		ptok := pr.fullLogin(newBrowser(t), person{"mona", pw, ""})
		status, _, _ = e.postForm("/oauth2/revoke", url.Values{"token": {ptok.AccessToken}, "client_id": {pc.ID}}, "", "")
		if status != http.StatusOK {
			t.Fatalf("public revoke: %d", status)
		}
		if e.introspect(ptok.AccessToken, c.ID, s)["active"] != false {
			t.Error("token revoked by the public client is still active")
		}
	})
}

func TestIntrospectionRules(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		_, pw := e.user("nina")
		owner, os := e.client(manage.ClientSpec{SkipConsent: true})
		other, oths := e.client(manage.ClientSpec{SkipConsent: true})
		resource, rs := e.client(manage.ClientSpec{GrantTypes: []string{"client_credentials"}, Scopes: []string{"gatehouse:introspect"}})
		// Registering gatehouse:introspect is not enough: a role must carry it.
		unprivileged, us := e.client(manage.ClientSpec{GrantTypes: []string{"client_credentials"}, Scopes: []string{"gatehouse:introspect"}})
		e.role(manage.RoleSpec{Name: "resource-server", Scopes: []string{"gatehouse:introspect"}})
		e.grantClient(resource.ID, "resource-server")
		tok := e.rp(owner, os).fullLogin(newBrowser(t), person{"nina", pw, ""})

		own := e.introspect(tok.AccessToken, owner.ID, os)
		if own["active"] != true || own["client_id"] != owner.ID || own["sub"] == nil || own["scope"] == nil || own["exp"] == nil {
			t.Fatalf("own token: %v", own)
		}
		if got := e.introspect(tok.AccessToken, other.ID, oths); got["active"] != false || len(got) != 1 {
			t.Errorf("another client's token: %v", got)
		}
		if got := e.introspect(tok.AccessToken, resource.ID, rs); got["active"] != true {
			t.Errorf("client with gatehouse:introspect: %v", got)
		}
		if got := e.introspect(tok.AccessToken, unprivileged.ID, us); got["active"] != false {
			t.Errorf("client that registered gatehouse:introspect without a role: %v", got)
		}
		if got := e.introspect("not-a-token", owner.ID, os); got["active"] != false {
			t.Errorf("garbage token: %v", got)
		}
		// Public clients and bearer tokens may not introspect.
		pc, _ := e.client(manage.ClientSpec{Public: true})
		if status, _, _ := e.postForm("/oauth2/introspect", url.Values{"token": {tok.AccessToken}, "client_id": {pc.ID}}, "", ""); status != http.StatusUnauthorized {
			t.Errorf("public client introspection: %d", status)
		}
		req, _ := http.NewRequest(http.MethodPost, e.issuer+"/oauth2/introspect", strings.NewReader(url.Values{"token": {tok.AccessToken}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		if status, _, _ := e.do(req); status != http.StatusUnauthorized {
			t.Errorf("bearer introspection: %d", status)
		}
	})
}

func TestUserInfo(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		sub, pw := e.user("olga")
		c, s := e.client(manage.ClientSpec{SkipConsent: true})
		tok := e.rp(c, s, "openid", "email").fullLogin(newBrowser(t), person{"olga", pw, ""})

		get, _ := http.NewRequest(http.MethodGet, e.issuer+"/userinfo", nil)
		get.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		post, _ := http.NewRequest(http.MethodPost, e.issuer+"/userinfo", strings.NewReader(url.Values{"access_token": {tok.AccessToken}}.Encode()))
		post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for name, req := range map[string]*http.Request{"GET header": get, "POST body": post} {
			status, body, _ := e.do(req)
			if status != http.StatusOK || body["sub"] != sub || body["email"] != "olga@example.com" {
				t.Errorf("%s: %d %v", name, status, body)
			}
			if _, ok := body["preferred_username"]; ok {
				t.Errorf("%s: profile claim without the profile scope: %v", name, body)
			}
		}
		bad, _ := http.NewRequest(http.MethodGet, e.issuer+"/userinfo", nil)
		bad.Header.Set("Authorization", "Bearer nope")
		status, _, h := e.do(bad)
		if status != http.StatusUnauthorized || !strings.Contains(h.Get("WWW-Authenticate"), "invalid_token") {
			t.Errorf("bad token: %d %q", status, h.Get("WWW-Authenticate"))
		}
	})
}

func TestClientCredentials(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		c, s := e.client(manage.ClientSpec{GrantTypes: []string{"client_credentials"}, Scopes: []string{"openid", "reports:read"}})
		cfg := &clientCredentials{e: e, id: c.ID, secret: s}
		// Without a role the protected scope is not granted.
		tok, err := cfg.token("reports:read")
		if err != nil {
			t.Fatal(err)
		}
		if got := tok.Extra("scope"); got != "" {
			t.Errorf("scope without a role = %v", got)
		}
		e.role(manage.RoleSpec{Name: "reporting", Scopes: []string{"reports:read"}})
		e.grantClient(c.ID, "reporting")
		tok, err = cfg.token("reports:read openid")
		if err != nil {
			t.Fatal(err)
		}
		if got := tok.Extra("scope"); got != "reports:read" {
			t.Errorf("scope = %v, want only reports:read (openid is never granted here)", got)
		}
		if tok.RefreshToken != "" || tok.Extra("id_token") != nil {
			t.Error("client credentials returned a refresh or ID token")
		}
		in := e.introspect(tok.AccessToken, c.ID, s)
		if in["active"] != true || in["client_id"] != c.ID {
			t.Errorf("introspect: %v", in)
		}
		if _, err := cfg.token("admin"); err == nil {
			t.Error("unregistered scope granted")
		}
		cfg.secret = "wrong"
		if _, err := cfg.token(""); err == nil {
			t.Error("wrong secret accepted")
		}
		// A public client cannot use client credentials; nor can a client not registered for it.
		codeClient, cs := e.client(manage.ClientSpec{})
		if _, err := (&clientCredentials{e: e, id: codeClient.ID, secret: cs}).token(""); err == nil {
			t.Error("client without the grant type used client_credentials")
		}
	})
}

type clientCredentials struct {
	e          *env
	id, secret string
}

func (c *clientCredentials) token(scope string) (*oauth2.Token, error) {
	form := url.Values{"grant_type": {"client_credentials"}}
	if scope != "" {
		form.Set("scope", scope)
	}
	status, body, _ := c.e.postForm("/oauth2/token", form, c.id, c.secret)
	if status != http.StatusOK {
		return nil, &tokenError{status, body}
	}
	tok := (&oauth2.Token{AccessToken: body["access_token"].(string), TokenType: "Bearer"}).WithExtra(body)
	if rt, ok := body["refresh_token"].(string); ok {
		tok.RefreshToken = rt
	}
	remember(tok.AccessToken)
	return tok, nil
}

type tokenError struct {
	status int
	body   map[string]any
}

func (e *tokenError) Error() string { return http.StatusText(e.status) }
