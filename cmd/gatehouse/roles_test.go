package main

import (
	"slices"
	"strings"
	"testing"
)

func TestRolesCommands(t *testing.T) {
	backendCLIs(t, func(t *testing.T, c *cli) {
		c.ok(nil, "", "migrate")
		var role struct {
			Name        string   `json:"name"`
			Description string   `json:"description"`
			Scopes      []string `json:"scopes"`
			RequireMFA  bool     `json:"require_mfa"`
		}
		c.ok(&role, "", "roles", "create", "editor", "--scope", "articles:write", "--scope", "articles:read media:upload", "--description", "Writes articles", "--json")
		if role.Name != "editor" || !slices.Equal(role.Scopes, []string{"articles:write", "articles:read", "media:upload"}) || role.RequireMFA {
			t.Fatalf("roles create = %+v", role)
		}
		c.ok(&role, "", "roles", "create", "admin", "--scope", "gatehouse:admin", "--require-mfa", "--json")
		if !role.RequireMFA {
			t.Fatal("--require-mfa not stored")
		}
		for _, bad := range [][]string{
			{"roles", "create", "editor", "--scope", "x"},    // duplicate
			{"roles", "create", "Bad Name", "--scope", "x"},  // invalid name
			{"roles", "create", "empty"},                     // no scope
			{"roles", "create", "open", "--scope", "openid"}, // open scope
			{"roles", "get", "nope"},                         // unknown
			{"users", "grant", "nobody", "editor"},           // unknown user
		} {
			c.fails("", bad...)
		}

		c.ok(&role, "", "roles", "remove-scope", "editor", "media:upload", "--json")
		c.ok(&role, "", "roles", "add-scope", "editor", "articles:publish", "--json")
		if !slices.Equal(role.Scopes, []string{"articles:write", "articles:read", "articles:publish"}) {
			t.Fatalf("after add/remove = %v", role.Scopes)
		}
		var list []map[string]any
		c.ok(&list, "", "roles", "list", "--json")
		if len(list) != 2 || list[0]["name"] != "admin" {
			t.Fatalf("roles list = %v", list)
		}

		// users create --role, grant, revoke; users get shows the roles.
		var created map[string]string
		c.ok(&created, "a long enough password\n", "users", "create", "--username", "dana", "--email", "dana@example.com", "--password-stdin", "--role", "editor", "--json")
		if stderr := c.fails("a long enough password\n", "users", "create", "--username", "eve", "--email", "eve@example.com", "--password-stdin", "--role", "nope"); !strings.Contains(stderr, "nope") {
			t.Fatalf("unknown role at create: %q", stderr)
		}
		var eve []map[string]any
		c.ok(&eve, "", "users", "list", "--json")
		if len(eve) != 1 {
			t.Fatalf("a user was created although its role does not exist: %v", eve)
		}
		c.ok(nil, "", "users", "grant", "dana", "admin", "--json")
		var user struct {
			Roles []string `json:"roles"`
		}
		c.ok(&user, "", "users", "get", "dana", "--json")
		if !slices.Equal(user.Roles, []string{"admin", "editor"}) {
			t.Fatalf("roles of dana = %v", user.Roles)
		}
		c.ok(nil, "", "users", "revoke", "dana", "admin", "--json")
		c.ok(&user, "", "users", "get", created["id"], "--json")
		if !slices.Equal(user.Roles, []string{"editor"}) {
			t.Fatalf("roles of dana after revoke = %v", user.Roles)
		}

		// clients grant/revoke.
		var client map[string]string
		c.ok(&client, "", "clients", "create", "--name", "Reports", "--grant-type", "client_credentials", "--scope", "reports:read", "--json")
		c.ok(nil, "", "roles", "create", "reporting", "--scope", "reports:read", "--json")
		c.ok(nil, "", "clients", "grant", client["client_id"], "reporting", "--json")
		c.ok(nil, "", "clients", "revoke", client["client_id"], "reporting", "--json")
		c.fails("", "clients", "grant", "no-such-client", "reporting")

		c.ok(nil, "", "roles", "delete", "editor", "--json")
		c.ok(&user, "", "users", "get", "dana", "--json")
		if len(user.Roles) != 0 {
			t.Fatalf("roles after deleting the role = %v", user.Roles)
		}
		c.fails("", "roles", "delete", "editor")
	})
}
