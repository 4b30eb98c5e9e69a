package server_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/server/manage"
	"github.com/gatehouse/gatehouse/storage"
)

type params = map[string]string

func TestAdminAuthorization(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		reader := e.adminToken("reports", "reports:read")
		for _, tc := range []struct {
			name, token string
			want        int
			challenge   string
		}{
			{"no token", "", http.StatusUnauthorized, `Bearer realm="gatehouse-admin"`},
			{"unknown token", "not-a-real-token-at-all", http.StatusUnauthorized, `error="invalid_token"`},
			{"token without gatehouse:admin", reader, http.StatusForbidden, `error="insufficient_scope"`},
		} {
			t.Run(tc.name, func(t *testing.T) {
				api := e.adminAPI(tc.token)
				req, _ := http.NewRequest(http.MethodGet, e.issuer+"/admin/users", nil)
				if tc.token != "" {
					req.Header.Set("Authorization", "Bearer "+tc.token)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != tc.want || !strings.Contains(resp.Header.Get("WWW-Authenticate"), tc.challenge) {
					t.Fatalf("status %d, WWW-Authenticate %q; want %d with %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"), tc.want, tc.challenge)
				}
				if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
					t.Errorf("Content-Type %q", ct)
				}
				if status, _ := api.call("GET", "/admin/clients", nil, "", nil); status != tc.want {
					t.Errorf("GET /admin/clients: %d, want %d", status, tc.want)
				}
			})
		}

		// The document is public.
		resp, err := http.Get(e.issuer + "/admin/openapi.json")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("openapi.json: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
		}

		// Tokens are checked against the database: deleting the client that
		// holds a token ends its access at once.
		api := e.adminAPI(e.adminToken("admin", "gatehouse:admin"))
		other := e.adminToken("admin2", "gatehouse:admin")
		api2 := e.adminAPI(other)
		api2.must(http.StatusOK, "GET", "/admin/roles", nil, nil)
		list := api.must(http.StatusOK, "GET", "/admin/clients", nil, nil)
		for _, it := range list["items"].([]any) {
			c := it.(map[string]any)
			if c["client_name"] == "Automation admin2" {
				api.must(http.StatusNoContent, "DELETE", "/admin/clients/{id}", params{"id": c["client_id"].(string)}, nil)
			}
		}
		if status, _ := api2.call("GET", "/admin/roles", nil, "", nil); status != http.StatusUnauthorized {
			t.Fatalf("token of a deleted client: %d, want 401", status)
		}
	})
}

func TestAdminClients(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		api := e.adminAPI(e.adminToken("admin", "gatehouse:admin"))
		e.role(manage.RoleSpec{Name: "reports", Scopes: []string{"reports:read"}})

		created := api.must(http.StatusCreated, "POST", "/admin/clients", nil, map[string]any{
			"client_name": "Nightly job", "grant_types": []string{"client_credentials"}, "scopes": []string{"reports:read"},
		})
		secret, _ := created["client_secret"].(string)
		remember(secret)
		client := created["client"].(map[string]any)
		id := client["client_id"].(string)
		if secret == "" || client["token_endpoint_auth_method"] != "client_secret_basic" {
			t.Fatalf("create: %v", client)
		}

		got := api.must(http.StatusOK, "GET", "/admin/clients/{id}", params{"id": id}, nil)
		if _, leaked := got["client_secret"]; leaked || got["client_name"] != "Nightly job" {
			t.Fatalf("get: %v", got)
		}

		// Without the role the scope is withheld; granting it through the
		// API makes the client receive it, revoking takes it away.
		form := url.Values{"grant_type": {"client_credentials"}, "scope": {"reports:read"}}
		if status, body, _ := e.postForm("/oauth2/token", form, id, secret); status == http.StatusOK && rememberToken(body) == "reports:read" {
			t.Fatalf("token before the grant carries %v", body["scope"])
		}
		api.must(http.StatusNoContent, "PUT", "/admin/clients/{id}/roles/{role}", params{"id": id, "role": "reports"}, nil)
		status, body, _ := e.postForm("/oauth2/token", form, id, secret)
		if status != http.StatusOK || body["scope"] != "reports:read" {
			t.Fatalf("token after the grant: %d %v", status, body)
		}
		remember(body["access_token"].(string))
		api.must(http.StatusNoContent, "DELETE", "/admin/clients/{id}/roles/{role}", params{"id": id, "role": "reports"}, nil)

		patched := api.must(http.StatusOK, "PATCH", "/admin/clients/{id}", params{"id": id}, map[string]any{"client_name": "Nightly export", "access_token_format": "jwt"})
		if patched["client_name"] != "Nightly export" || patched["access_token_format"] != "jwt" || fmt.Sprint(patched["scopes"]) != "[reports:read]" {
			t.Fatalf("patch: %v", patched)
		}
		for _, tc := range []struct {
			name  string
			body  any
			want  int
			field string
		}{
			{"invalid redirect URI", map[string]any{"grant_types": []string{"authorization_code"}, "redirect_uris": []string{"javascript:alert(1)"}}, http.StatusUnprocessableEntity, "redirect_uris"},
			{"unsupported grant", map[string]any{"grant_types": []string{"password"}}, http.StatusUnprocessableEntity, "grant_types"},
			{"unknown field", map[string]any{"client_secret": "mine"}, http.StatusBadRequest, ""},
			{"not JSON", "{", http.StatusBadRequest, ""},
			{"trailing data", `{"client_name":"x"} {}`, http.StatusBadRequest, ""},
			{"too large", `{"client_name":"` + strings.Repeat("a", 70<<10) + `"}`, http.StatusRequestEntityTooLarge, ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				status, p := api.call("PATCH", "/admin/clients/{id}", params{"id": id}, "", tc.body)
				if status != tc.want || p["status"] != float64(tc.want) || p["title"] == "" {
					t.Fatalf("status %d, problem %v; want %d", status, p, tc.want)
				}
				if tc.field != "" {
					if errs, _ := p["errors"].(map[string]any); errs[tc.field] == nil {
						t.Fatalf("problem %v does not name %s", p, tc.field)
					}
				}
			})
		}
		if status, _ := api.call("POST", "/admin/clients", nil, "", map[string]any{"client_name": ""}); status != http.StatusUnprocessableEntity {
			t.Fatalf("create without a name: %d", status)
		}

		api.must(http.StatusNoContent, "DELETE", "/admin/clients/{id}", params{"id": id}, nil)
		for _, op := range []struct{ method, path string }{{"GET", "/admin/clients/{id}"}, {"DELETE", "/admin/clients/{id}"}, {"PATCH", "/admin/clients/{id}"}} {
			var body any
			if op.method == "PATCH" {
				body = map[string]any{}
			}
			if status, p := api.call(op.method, op.path, params{"id": id}, "", body); status != http.StatusNotFound {
				t.Fatalf("%s after delete: %d %v", op.method, status, p)
			}
		}
		if status, _, _ := e.postForm("/oauth2/token", url.Values{"grant_type": {"client_credentials"}}, id, secret); status != http.StatusUnauthorized {
			t.Fatalf("deleted client authenticated: %d", status)
		}
	})
}

// rememberToken remembers the tokens of a token response and returns its scope.
func rememberToken(body map[string]any) string {
	for _, k := range []string{"access_token", "refresh_token", "id_token"} {
		if v, ok := body[k].(string); ok {
			remember(v)
		}
	}
	scope, _ := body["scope"].(string)
	return scope
}

func TestAdminRotateSecret(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		api := e.adminAPI(e.adminToken("admin", "gatehouse:admin"))
		c, oldSecret := e.client(manage.ClientSpec{GrantTypes: []string{"client_credentials"}})
		works := func(secret string) bool {
			t.Helper()
			status, body, _ := e.postForm("/oauth2/token", url.Values{"grant_type": {"client_credentials"}}, c.ID, secret)
			rememberToken(body)
			return status == http.StatusOK
		}

		rotated := api.must(http.StatusOK, "POST", "/admin/clients/{id}/rotate-secret", params{"id": c.ID}, map[string]any{"grace": "1h"})
		newSecret, _ := rotated["client_secret"].(string)
		remember(newSecret)
		if newSecret == "" || newSecret == oldSecret || rotated["previous_secret_expires_at"] == nil {
			t.Fatalf("rotate: %v", rotated["previous_secret_expires_at"])
		}
		if !works(oldSecret) || !works(newSecret) {
			t.Fatal("during the grace period both secrets must work")
		}
		// The grace period ends (moved into the past rather than waited for).
		err := e.store.UpdateClient(t.Context(), c.ID, func(sc *storage.Client) error {
			past := time.Now().Add(-time.Second)
			sc.RotatedSecretExpiresAt = &past
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if works(oldSecret) || !works(newSecret) {
			t.Fatal("after the grace period only the new secret may work")
		}

		// Without grace the previous secret stops at once.
		rotated = api.must(http.StatusOK, "POST", "/admin/clients/{id}/rotate-secret", params{"id": c.ID}, nil)
		third := rotated["client_secret"].(string)
		remember(third)
		if works(newSecret) || !works(third) {
			t.Fatal("rotation without grace must end the previous secret at once")
		}

		for _, tc := range []struct {
			name string
			body any
		}{
			{"bad duration", map[string]any{"grace": "tomorrow"}},
			{"negative", map[string]any{"grace": "-1h"}},
			{"too long", map[string]any{"grace": "1000h"}},
		} {
			if status, p := api.call("POST", "/admin/clients/{id}/rotate-secret", params{"id": c.ID}, "", tc.body); status != http.StatusUnprocessableEntity || p["errors"] == nil {
				t.Fatalf("%s: %d %v", tc.name, status, p)
			}
		}
		public, _ := e.client(manage.ClientSpec{Public: true})
		if status, _ := api.call("POST", "/admin/clients/{id}/rotate-secret", params{"id": public.ID}, "", nil); status != http.StatusUnprocessableEntity {
			t.Fatalf("public client: %d", status)
		}
		if status, _ := api.call("POST", "/admin/clients/{id}/rotate-secret", params{"id": "nope"}, "", nil); status != http.StatusNotFound {
			t.Fatalf("unknown client: %d", status)
		}
	})
}
