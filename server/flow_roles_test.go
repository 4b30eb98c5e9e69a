package server_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"

	"github.com/gatehouse/gatehouse/server/manage"
)

func rolesOf(t *testing.T, tok *tokens) []string {
	t.Helper()
	var claims struct {
		Roles []string `json:"roles"`
	}
	if err := tok.idToken.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	return claims.Roles
}

func anyStrings(v any) []string {
	var out []string
	if list, ok := v.([]any); ok {
		for _, x := range list {
			out = append(out, x.(string))
		}
	}
	return out
}

func TestRolesDecideProtectedScopes(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		e.role(manage.RoleSpec{Name: "editor", Description: "Writes articles", Scopes: []string{"articles:write"}})
		e.role(manage.RoleSpec{Name: "hr", Scopes: []string{"salaries:read"}})
		_, annPW := e.user("ann")
		_, benPW := e.user("ben")
		e.grantUser("ben", "editor")
		e.grantUser("ben", "hr")
		c, s := e.client(manage.ClientSpec{Name: "CMS", Scopes: []string{"openid profile articles:write"}, AccessTokenFormat: "jwt"})
		r := e.rp(c, s, "openid", "articles:write")

		// Without the role: the scope is dropped, the consent page says so.
		a := r.authURL()
		code, v := r.login(newBrowser(t), a, person{"ann", annPW, "accept"})
		if !strings.Contains(v.consentText, "articles:write") || !strings.Contains(v.consentText, "Not granted") {
			t.Errorf("consent page does not say what was withheld: %q", v.consentText)
		}
		ann := r.mustExchange(code, a)
		if got := ann.Extra("scope"); got != "openid" {
			t.Errorf("ann's scope = %v, want openid", got)
		}
		if roles := rolesOf(t, ann); len(roles) != 0 {
			t.Errorf("ann's roles = %v", roles)
		}

		// With the role: granted, and the roles behind the granted scopes are
		// named everywhere (not hr: no hr scope was granted).
		ben := r.fullLogin(newBrowser(t), person{"ben", benPW, "accept"})
		if got := ben.Extra("scope"); got != "openid articles:write" {
			t.Errorf("ben's scope = %v", got)
		}
		if roles := rolesOf(t, ben); !slices.Equal(roles, []string{"editor"}) {
			t.Errorf("ID token roles = %v, want [editor]", roles)
		}
		req, _ := http.NewRequest(http.MethodGet, e.issuer+"/userinfo", nil)
		req.Header.Set("Authorization", "Bearer "+ben.AccessToken)
		if _, body, _ := e.do(req); !slices.Equal(anyStrings(body["roles"]), []string{"editor"}) {
			t.Errorf("UserInfo roles = %v", body["roles"])
		}
		if in := e.introspect(ben.AccessToken, c.ID, s); !slices.Equal(anyStrings(in["roles"]), []string{"editor"}) || in["scope"] != "openid articles:write" {
			t.Errorf("introspection = %v", in)
		}
		parsed, err := josejwt.ParseSigned(ben.AccessToken, []jose.SignatureAlgorithm{jose.RS256})
		if err != nil {
			t.Fatal(err)
		}
		var atClaims struct {
			Roles []string `json:"roles"`
			Scope string   `json:"scope"`
		}
		_ = parsed.UnsafeClaimsWithoutVerification(&atClaims)
		if !slices.Equal(atClaims.Roles, []string{"editor"}) || atClaims.Scope != "openid articles:write" {
			t.Errorf("JWT access token claims = %+v", atClaims)
		}

		// An unregistered scope is invalid_scope; only ungrantable scopes end in access_denied.
		r2 := e.rp(c, s, "openid", "admin")
		v = e.follow(newBrowser(t), r2.authURL().url, person{})
		if v.callback == nil || v.callback.Query().Get("error") != "invalid_scope" {
			t.Errorf("unregistered scope: %v", v.callback)
		}
		r3 := e.rp(c, s, "articles:write")
		v = e.follow(newBrowser(t), r3.authURL().url, person{"ann", annPW, "accept"})
		if v.callback == nil || v.callback.Query().Get("error") != "access_denied" || v.callback.Query().Get("iss") != e.issuer {
			t.Errorf("only ungrantable scopes: %v", v.callback)
		}
	})
}

func TestRoleChangesReachRefreshAndConsent(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		e.role(manage.RoleSpec{Name: "editor", Scopes: []string{"articles:write"}})
		_, pw := e.user("cleo")
		e.grantUser("cleo", "editor")
		c, s := e.client(manage.ClientSpec{Scopes: []string{"openid offline_access articles:write"}})
		r := e.rp(c, s, "openid", "offline_access", "articles:write")
		b := newBrowser(t)
		tok := r.fullLogin(b, person{"cleo", pw, "accept"})

		// Revoking the role narrows the next refresh and rewrites the roles claim.
		if _, err := e.manage.RevokeUserRole(context.Background(), "cleo", "editor"); err != nil {
			t.Fatal(err)
		}
		status, body := r.refresh(tok.RefreshToken)
		if status != http.StatusOK {
			t.Fatalf("refresh: %d %v", status, body)
		}
		if body["scope"] != "openid offline_access" {
			t.Errorf("scope after revocation = %v", body["scope"])
		}
		idt, err := r.verifier.Verify(context.Background(), body["id_token"].(string))
		if err != nil {
			t.Fatal(err)
		}
		var claims struct {
			Roles []string `json:"roles"`
		}
		_ = idt.Claims(&claims)
		if len(claims.Roles) != 0 {
			t.Errorf("roles after revocation = %v", claims.Roles)
		}

		// Remembered consent no longer covers the lost scope: regaining the role asks again.
		e.grantUser("cleo", "editor")
		_, v := r.login(b, r.authURL(), person{"cleo", pw, "accept"})
		if !v.sawConsent {
			t.Error("consent not asked again for a scope the user had lost")
		}

		// Disabling the user fails the next refresh.
		rt := body["refresh_token"].(string)
		if _, err := e.manage.DisableUser(context.Background(), "cleo"); err != nil {
			t.Fatal(err)
		}
		if status, body := r.refresh(rt); status != http.StatusBadRequest || body["error"] != "invalid_grant" {
			t.Errorf("refresh of a disabled user: %d %v", status, body)
		}
	})
}
