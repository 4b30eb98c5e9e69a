package server_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/gatehouse/gatehouse/server/manage"
)

func TestAdminUsers(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		api := e.adminAPI(e.adminToken("admin", "gatehouse:admin"))
		e.role(manage.RoleSpec{Name: "hr", Scopes: []string{"hr:read"}})
		password := "pw-" + randomString(16)
		remember(password)

		u := api.must(http.StatusCreated, "POST", "/admin/users", nil, map[string]any{"username": "alice", "email": "alice@example.com", "display_name": "Alice", "password": password})
		id := u["id"].(string)
		if u["has_password"] != true || u["username"] != "alice" || id == "alice" {
			t.Fatalf("create: %v", u)
		}
		if status, p := api.call("POST", "/admin/users", nil, "", map[string]any{"username": "ALICE", "email": "other@example.com"}); status != http.StatusConflict || p["errors"] == nil {
			t.Fatalf("duplicate username: %d %v", status, p)
		}
		if status, p := api.call("POST", "/admin/users", nil, "", map[string]any{"username": "bob", "email": "not-an-email"}); status != http.StatusUnprocessableEntity || p["errors"].(map[string]any)["email"] == nil {
			t.Fatalf("bad email: %d %v", status, p)
		}
		// By id and by username.
		for _, key := range []string{id, "alice"} {
			if got := api.must(http.StatusOK, "GET", "/admin/users/{id}", params{"id": key}, nil); got["id"] != id {
				t.Fatalf("get %s: %v", key, got)
			}
		}

		patched := api.must(http.StatusOK, "PATCH", "/admin/users/{id}", params{"id": id}, map[string]any{"display_name": "Alice A.", "require_mfa": true, "disabled": true})
		if patched["display_name"] != "Alice A." || patched["require_mfa"] != true || patched["disabled"] != true {
			t.Fatalf("patch: %v", patched)
		}
		if got := api.must(http.StatusOK, "PATCH", "/admin/users/{id}", params{"id": id}, map[string]any{"disabled": false, "require_mfa": false}); got["disabled"] != false {
			t.Fatalf("enable: %v", got)
		}
		if status, p := api.call("PATCH", "/admin/users/{id}", params{"id": id}, "", map[string]any{"password": "short"}); status != http.StatusUnprocessableEntity {
			t.Fatalf("short password: %d %v", status, p)
		}

		api.must(http.StatusOK, "PUT", "/admin/users/{id}/roles/{role}", params{"id": id, "role": "hr"}, nil)
		roles, err := e.manage.UserRoles(t.Context(), id)
		if err != nil || len(roles) != 1 || roles[0].Name != "hr" {
			t.Fatalf("roles after grant: %v %v", roles, err)
		}
		if status, _ := api.call("PUT", "/admin/users/{id}/roles/{role}", params{"id": id, "role": "nope"}, "", nil); status != http.StatusNotFound {
			t.Fatalf("grant of an unknown role: %d", status)
		}
		api.must(http.StatusOK, "DELETE", "/admin/users/{id}/roles/{role}", params{"id": id, "role": "hr"}, nil)
		if roles, _ := e.manage.UserRoles(t.Context(), id); len(roles) != 0 {
			t.Fatalf("roles after revoke: %v", roles)
		}

		// A signed-in user with a consent and tokens: the consent is listed,
		// deleting it revokes the tokens, sign-out ends the session.
		c, secret := e.client(manage.ClientSpec{})
		rp := e.rp(c, secret, "openid", "profile")
		b := newBrowser(t)
		tokens := rp.fullLogin(b, person{"alice", password, "accept"})
		consents := api.must(http.StatusOK, "GET", "/admin/users/{id}/consents", params{"id": id}, nil)
		if items := consents["items"].([]any); len(items) != 1 || items[0].(map[string]any)["client_id"] != c.ID {
			t.Fatalf("consents: %v", consents)
		}
		api.must(http.StatusNoContent, "DELETE", "/admin/users/{id}/consents/{client_id}", params{"id": id, "client_id": c.ID}, nil)
		if got := e.introspect(tokens.AccessToken, c.ID, secret); got["active"] != false {
			t.Fatalf("token after the consent was deleted: %v", got)
		}
		if consents := api.must(http.StatusOK, "GET", "/admin/users/{id}/consents", params{"id": id}, nil); len(consents["items"].([]any)) != 0 {
			t.Fatalf("consents after delete: %v", consents)
		}

		sessions := api.must(http.StatusOK, "GET", "/admin/users/{id}/sessions", params{"id": id}, nil)
		if items := sessions["items"].([]any); len(items) != 1 || items[0].(map[string]any)["sid"] != sidOf(t, tokens) {
			t.Fatalf("sessions: %v", sessions)
		}
		api.must(http.StatusOK, "POST", "/admin/users/{id}/sign-out", params{"id": id}, nil)
		if sessions := api.must(http.StatusOK, "GET", "/admin/users/{id}/sessions", params{"id": id}, nil); len(sessions["items"].([]any)) != 0 {
			t.Fatalf("sessions after sign-out: %v", sessions)
		}
		resp, err := b.Get(rp.authURL().url)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if loc := resp.Header.Get("Location"); !strings.Contains(loc, "/login") {
			t.Fatalf("after sign-out the browser is not sent to the login page: %d %q", resp.StatusCode, loc)
		}
		api.must(http.StatusOK, "POST", "/admin/users/{id}/unlock", params{"id": id}, nil)
		api.must(http.StatusOK, "POST", "/admin/users/{id}/reset-mfa", params{"id": id}, nil)

		api.must(http.StatusNoContent, "DELETE", "/admin/users/{id}", params{"id": id}, nil)
		for _, path := range []string{"/admin/users/{id}", "/admin/users/{id}/consents"} {
			if status, _ := api.call("GET", path, params{"id": id}, "", nil); status != http.StatusNotFound {
				t.Fatalf("GET %s after delete: %d", path, status)
			}
		}
		if status, _ := api.call("POST", "/admin/users/{id}/sign-out", params{"id": id}, "", nil); status != http.StatusNotFound {
			t.Fatalf("sign-out after delete: %d", status)
		}
	})
}

func TestAdminRolesAndPaging(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		api := e.adminAPI(e.adminToken("admin", "gatehouse:admin"))
		for i := range 6 {
			api.must(http.StatusCreated, "POST", "/admin/roles", nil, map[string]any{"name": fmt.Sprintf("team-%d", i), "description": "Team", "scopes": []string{"team:read"}})
		}
		if status, p := api.call("POST", "/admin/roles", nil, "", map[string]any{"name": "team-0", "scopes": []string{"x:y"}}); status != http.StatusConflict {
			t.Fatalf("duplicate role: %d %v", status, p)
		}
		if status, p := api.call("POST", "/admin/roles", nil, "", map[string]any{"name": "Bad Name", "scopes": []string{"x:y"}}); status != http.StatusUnprocessableEntity || p["errors"] == nil {
			t.Fatalf("bad role name: %d %v", status, p)
		}
		role := api.must(http.StatusOK, "PATCH", "/admin/roles/{name}", params{"name": "team-0"}, map[string]any{"add_scopes": []string{"team:write"}, "remove_scopes": []string{"team:read"}})
		if fmt.Sprint(role["scopes"]) != "[team:write]" {
			t.Fatalf("patch: %v", role)
		}
		if got := api.must(http.StatusOK, "GET", "/admin/roles/{name}", params{"name": "team-0"}, nil); fmt.Sprint(got["scopes"]) != "[team:write]" {
			t.Fatalf("get: %v", got)
		}

		// Seven roles (the admin role and six teams), three per page.
		var names []string
		token, pages := "", 0
		for {
			q := url.Values{"page_size": {"3"}}
			if token != "" {
				q.Set("page_token", token)
			}
			status, list := api.call("GET", "/admin/roles", nil, q.Encode(), nil)
			if status != http.StatusOK {
				t.Fatalf("page %d: %d %v", pages, status, list)
			}
			pages++
			for _, it := range list["items"].([]any) {
				names = append(names, it.(map[string]any)["name"].(string))
			}
			token, _ = list["next_page_token"].(string)
			if token == "" {
				break
			}
		}
		if pages != 3 || len(names) != 7 || !slices.IsSorted(names) || len(slices.Compact(slices.Clone(names))) != 7 {
			t.Fatalf("paging: %d pages, %v", pages, names)
		}
		for _, q := range []string{"page_size=0", "page_size=201", "page_size=x", "page_token=%21%21"} {
			if status, p := api.call("GET", "/admin/roles", nil, q, nil); status != http.StatusBadRequest {
				t.Fatalf("%s: %d %v", q, status, p)
			}
		}

		api.must(http.StatusNoContent, "DELETE", "/admin/roles/{name}", params{"name": "team-0"}, nil)
		if status, _ := api.call("GET", "/admin/roles/{name}", params{"name": "team-0"}, "", nil); status != http.StatusNotFound {
			t.Fatalf("get after delete: %d", status)
		}
	})
}

func TestAdminKeys(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		api := e.adminAPI(e.adminToken("admin", "gatehouse:admin"))
		before := api.must(http.StatusOK, "GET", "/admin/keys", nil, nil)["items"].([]any)
		var oldKID string
		for _, it := range before {
			if k := it.(map[string]any); k["alg"] == "RS256" && k["active"] == true {
				oldKID = k["kid"].(string)
			}
		}
		if oldKID == "" {
			t.Fatalf("no active RS256 key: %v", before)
		}

		// Without "now" the new key is published but does not sign yet.
		later := api.must(http.StatusCreated, "POST", "/admin/keys/rotate", nil, map[string]any{"alg": "ES256"})
		if later["active"] != false {
			t.Fatalf("rotate without now: %v", later)
		}
		key := api.must(http.StatusCreated, "POST", "/admin/keys/rotate", nil, map[string]any{"alg": "RS256", "now": true})
		if key["active"] != true || key["kid"] == oldKID {
			t.Fatalf("rotate: %v", key)
		}
		if !slices.ContainsFunc(e.jwks().Keys, func(k jose.JSONWebKey) bool { return k.KeyID == key["kid"] }) {
			t.Fatal("the new key is not in the JWKS")
		}
		if status, p := api.call("POST", "/admin/keys/rotate", nil, "", map[string]any{"alg": "HS256"}); status != http.StatusUnprocessableEntity {
			t.Fatalf("unsupported alg: %d %v", status, p)
		}

		// The active key cannot be retired; the old one only with force, as
		// it may have signed tokens that are still valid.
		if status, _ := api.call("POST", "/admin/keys/{kid}/retire", params{"kid": key["kid"].(string)}, "", nil); status != http.StatusConflict {
			t.Fatalf("retire the active key: %d", status)
		}
		if status, _ := api.call("POST", "/admin/keys/{kid}/retire", params{"kid": oldKID}, "", nil); status != http.StatusConflict {
			t.Fatalf("retire a young key without force: %d", status)
		}
		api.must(http.StatusNoContent, "POST", "/admin/keys/{kid}/retire", params{"kid": oldKID}, map[string]any{"force": true})
		if status, _ := api.call("POST", "/admin/keys/{kid}/retire", params{"kid": "no-such-key"}, "", nil); status != http.StatusNotFound {
			t.Fatalf("retire an unknown key: %d", status)
		}
		deadline := time.Now().Add(15 * time.Second)
		for slices.ContainsFunc(e.jwks().Keys, func(k jose.JSONWebKey) bool { return k.KeyID == oldKID }) {
			if time.Now().After(deadline) {
				t.Fatal("the retired key stays in the JWKS")
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
}
