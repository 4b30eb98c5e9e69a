package server_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/gatehouse/gatehouse/server/manage"
)

func TestAuthorizationCodeConfidentialClient(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		sub, pw := e.user("alice")
		c, secret := e.client(manage.ClientSpec{Name: "Photo Album"})
		r := e.rp(c, secret)
		b := newBrowser(t)
		a := r.authURL()
		code, v := r.login(b, a, person{"alice", pw, "accept"})
		if !v.sawLogin || !v.sawConsent {
			t.Fatalf("login shown %v, consent shown %v; want both", v.sawLogin, v.sawConsent)
		}
		if !strings.Contains(v.consentText, "Photo Album") {
			t.Errorf("consent page does not name the client: %q", v.consentText)
		}
		tok := r.mustExchange(code, a)
		if tok.idToken.Subject != sub {
			t.Errorf("sub = %q, want %q", tok.idToken.Subject, sub)
		}
		var claims struct {
			AuthTime          int64    `json:"auth_time"`
			AMR               []string `json:"amr"`
			SID               string   `json:"sid"`
			Email             string   `json:"email"`
			PreferredUsername string   `json:"preferred_username"`
			AtHash            string   `json:"at_hash"`
		}
		if err := tok.idToken.Claims(&claims); err != nil {
			t.Fatal(err)
		}
		if claims.AuthTime == 0 || claims.SID == "" || claims.AtHash == "" {
			t.Errorf("auth_time, sid and at_hash must be set: %+v", claims)
		}
		if !slices.Equal(claims.AMR, []string{"pwd"}) {
			t.Errorf("amr = %v, want [pwd]", claims.AMR)
		}
		if claims.Email != "alice@example.com" || claims.PreferredUsername != "alice" {
			t.Errorf("profile/email claims = %+v", claims)
		}
		if tok.RefreshToken == "" {
			t.Error("no refresh token although offline_access was granted")
		}
		if got := tok.Extra("scope"); got != "openid profile email offline_access" {
			t.Errorf("scope = %v", got)
		}
	})
}

func TestAuthorizationCodePublicClientRequiresPKCE(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		_, pw := e.user("bob")
		c, _ := e.client(manage.ClientSpec{Name: "SPA", Public: true})
		r := e.rp(c, "")
		b := newBrowser(t)
		tok := r.fullLogin(b, person{"bob", pw, "accept"})
		if tok.AccessToken == "" || tok.idToken == nil {
			t.Fatal("public client got no tokens")
		}

		// Without PKCE the request fails with an error redirect.
		u := r.conf.AuthCodeURL(randomString(16))
		v := e.follow(b, u, person{})
		if v.callback == nil || v.callback.Query().Get("error") != "invalid_request" {
			t.Fatalf("public client without PKCE: callback %v", v.callback)
		}
		if v.callback.Query().Get("iss") != e.issuer {
			t.Errorf("error redirect lacks iss: %v", v.callback)
		}

		// plain PKCE is refused.
		u = r.conf.AuthCodeURL(randomString(16), oauth2.SetAuthURLParam("code_challenge", oauth2.GenerateVerifier()), oauth2.SetAuthURLParam("code_challenge_method", "plain"))
		v = e.follow(b, u, person{})
		if v.callback == nil || v.callback.Query().Get("error") == "" {
			t.Fatalf("plain PKCE accepted: %v", v.callback)
		}
	})
}

func TestRedirectURIMismatchShowsErrorPage(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		c, secret := e.client(manage.ClientSpec{})
		r := e.rp(c, secret)
		for _, bad := range []string{"https://evil.example/callback", "http://127.0.0.1:9999/callback/extra", "http://127.0.0.1:9999/callback?x=1"} {
			r.conf.RedirectURL = bad
			v := e.follow(newBrowser(t), r.authURL().url, person{})
			if v.callback != nil {
				t.Fatalf("redirected to %v for redirect_uri %q", v.callback, bad)
			}
			if v.status != http.StatusBadRequest {
				t.Errorf("status %d for redirect_uri %q, want 400", v.status, bad)
			}
		}
		// An unknown client never redirects either.
		q := url.Values{"client_id": {"nope"}, "response_type": {"code"}, "redirect_uri": {c.RedirectURIs[0]}}
		v := e.follow(newBrowser(t), e.issuer+"/oauth2/auth?"+q.Encode(), person{})
		if v.callback != nil || v.status < 400 || v.status >= 500 {
			t.Fatalf("unknown client: callback %v status %d", v.callback, v.status)
		}
	})
}

func TestLoopbackRedirectAnyPort(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		_, pw := e.user("carol")
		c, secret := e.client(manage.ClientSpec{RedirectURIs: []string{"http://127.0.0.1/callback"}, SkipConsent: true})
		r := e.rp(c, secret)
		r.conf.RedirectURL = "http://127.0.0.1:53123/callback"
		a := r.authURL()
		code, v := r.login(newBrowser(t), a, person{"carol", pw, ""})
		if v.callback.Host != "127.0.0.1:53123" {
			t.Fatalf("redirected to %v", v.callback)
		}
		r.mustExchange(code, a)
	})
}

func TestStateAndNonceLength(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		_, pw := e.user("dave")
		c, secret := e.client(manage.ClientSpec{SkipConsent: true})
		r := e.rp(c, secret)
		b := newBrowser(t)
		// Both optional: a PKCE-only request without state and nonce works.
		verifier := oauth2.GenerateVerifier()
		u := strings.Replace(r.conf.AuthCodeURL("", oauth2.S256ChallengeOption(verifier)), "&state=", "", 1)
		v := e.follow(b, u, person{"dave", pw, ""})
		if v.callback == nil || v.callback.Query().Get("code") == "" {
			t.Fatalf("request without state: %v (%s)", v.callback, v.page)
		}
		remember(v.callback.Query().Get("code"))
		for name, opt := range map[string]oauth2.AuthCodeOption{
			"state": nil, "nonce": oauth2.SetAuthURLParam("nonce", "short"),
		} {
			state := randomString(16)
			if name == "state" {
				state = "short"
			}
			opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier)}
			if opt != nil {
				opts = append(opts, opt)
			}
			v := e.follow(b, r.conf.AuthCodeURL(state, opts...), person{})
			if v.callback == nil || v.callback.Query().Get("error") == "" {
				t.Errorf("short %s accepted: %v", name, v.callback)
			}
		}
	})
}
