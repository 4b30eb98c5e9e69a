package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMigrateReportsVersion(t *testing.T) {
	backendCLIs(t, func(t *testing.T, c *cli) {
		var first, second struct {
			Dialect string `json:"dialect"`
			Version int64  `json:"version"`
		}
		c.ok(&first, "", "migrate", "--json")
		if first.Version <= 0 || first.Dialect == "" {
			t.Fatalf("migrate --json = %+v, want a positive version and a dialect", first)
		}
		c.ok(&second, "", "migrate", "--json")
		if second != first {
			t.Fatalf("second migrate = %+v, want %+v", second, first)
		}
		if out := c.ok(nil, "", "migrate"); !strings.Contains(out, "version") {
			t.Fatalf("migrate output %q does not report the version", out)
		}
	})
}

func TestCommandsRefuseAnUnmigratedDatabase(t *testing.T) {
	c := newCLI(t)
	if stderr := c.fails("", "clients", "list"); !strings.Contains(stderr, "gatehouse migrate") {
		t.Fatalf("clients list on a fresh database: %q, want a hint to run gatehouse migrate", stderr)
	}
}

type clientOut struct {
	ClientID                 string   `json:"client_id"`
	ClientName               string   `json:"client_name"`
	Public                   bool     `json:"public"`
	RedirectURIs             []string `json:"redirect_uris"`
	GrantTypes               []string `json:"grant_types"`
	Scope                    string   `json:"scope"`
	Audience                 []string `json:"audience"`
	TokenEndpointAuthMethod  string   `json:"token_endpoint_auth_method"`
	IDTokenSignedResponseAlg string   `json:"id_token_signed_response_alg"`
	AccessTokenFormat        string   `json:"access_token_format"`
	SkipConsent              bool     `json:"skip_consent"`
}

func TestClientsCommands(t *testing.T) {
	backendCLIs(t, func(t *testing.T, c *cli) {
		c.ok(nil, "", "migrate")

		var created map[string]string
		c.ok(&created, "", "clients", "create", "--name", "Web app",
			"--redirect-uri", "https://app.example.com/cb", "--redirect-uri", "http://127.0.0.1:8000/cb",
			"--grant-type", "authorization_code", "--grant-type", "refresh_token",
			"--scope", "openid profile email offline_access", "--id-token-signing-alg", "ES256",
			"--access-token-format", "jwt", "--audience", "https://api.example.com", "--skip-consent", "--json")
		id, sec := created["client_id"], created["client_secret"]
		if id == "" || len(sec) < 43 || len(created) != 2 {
			t.Fatalf("clients create --json = %v, want exactly client_id and a 256-bit client_secret", created)
		}

		var got clientOut
		c.ok(&got, "", "clients", "get", id, "--json")
		want := clientOut{
			ClientID: id, ClientName: "Web app",
			RedirectURIs:             []string{"https://app.example.com/cb", "http://127.0.0.1:8000/cb"},
			GrantTypes:               []string{"authorization_code", "refresh_token"},
			Scope:                    "openid profile email offline_access",
			Audience:                 []string{"https://api.example.com"},
			TokenEndpointAuthMethod:  "client_secret_basic",
			IDTokenSignedResponseAlg: "ES256",
			AccessTokenFormat:        "jwt",
			SkipConsent:              true,
		}
		if gotJSON, wantJSON := mustJSON(t, got), mustJSON(t, want); gotJSON != wantJSON {
			t.Fatalf("clients get --json =\n%s\nwant\n%s", gotJSON, wantJSON)
		}
		raw := c.ok(nil, "", "clients", "get", id, "--json")
		if strings.Contains(raw, sec) || strings.Contains(raw, `"client_secret"`) || strings.Contains(raw, "digest") {
			t.Fatalf("clients get shows the secret or its digest: %s", raw)
		}

		// A public client gets no secret, not even an empty one.
		var public map[string]any
		c.ok(&public, "", "clients", "create", "--name", "SPA", "--public", "--redirect-uri", "http://localhost:5173/cb", "--json")
		if _, has := public["client_secret"]; has || public["client_id"] == "" {
			t.Fatalf("public client create --json = %v, want a client_id and no client_secret", public)
		}

		// A private_key_jwt client from a JWKS file gets no secret either.
		jwks := filepath.Join(t.TempDir(), "jwks.json")
		if err := os.WriteFile(jwks, []byte(testJWKS), 0o600); err != nil {
			t.Fatal(err)
		}
		var pk map[string]any
		c.ok(&pk, "", "clients", "create", "--name", "Service", "--grant-type", "client_credentials", "--jwks-file", jwks, "--json")
		if _, has := pk["client_secret"]; has {
			t.Fatalf("private_key_jwt client create = %v, want no client_secret", pk)
		}

		var list []clientOut
		c.ok(&list, "", "clients", "list", "--json")
		if len(list) != 3 {
			t.Fatalf("clients list --json: %d clients, want 3", len(list))
		}
		if out := c.ok(nil, "", "clients", "list"); !strings.Contains(out, id) || !strings.Contains(out, "Web app") {
			t.Fatalf("clients list:\n%s\nwant the client", out)
		}

		// Invalid input: exit 1 and a JSON error naming the field.
		stderr := c.fails("", "clients", "create", "--name", "Bad", "--redirect-uri", "http://app.example.com/cb", "--json")
		var errOut struct{ Error, Field string }
		if err := json.Unmarshal([]byte(stderr), &errOut); err != nil || errOut.Field != "redirect_uris" || !strings.Contains(errOut.Error, "https") {
			t.Fatalf("invalid redirect URI: stderr %q, want a JSON error on redirect_uris", stderr)
		}

		c.ok(nil, "", "clients", "delete", id, "--json")
		if stderr := c.fails("", "clients", "get", id); !strings.Contains(stderr, "not found") {
			t.Fatalf("clients get after delete: %q, want not found", stderr)
		}
		if stderr := c.fails("", "clients", "delete", id); !strings.Contains(stderr, "not found") {
			t.Fatalf("second clients delete: %q, want not found", stderr)
		}
	})
}

func TestClientsCreateNeedsTheSecret(t *testing.T) {
	c := newCLI(t)
	c.ok(nil, "", "migrate")
	delete(c.env, "GATEHOUSE_SECRET")
	if stderr := c.fails("", "clients", "create", "--name", "App", "--redirect-uri", "https://app.example.com/cb"); !strings.Contains(stderr, "GATEHOUSE_SECRET") {
		t.Fatalf("clients create without a secret: %q, want it to ask for GATEHOUSE_SECRET", stderr)
	}
}

func TestUsersCommands(t *testing.T) {
	backendCLIs(t, func(t *testing.T, c *cli) {
		c.ok(nil, "", "migrate")
		const password = "a long enough password"

		var created map[string]string
		out := c.ok(&created, password+"\n", "users", "create", "--username", "alice", "--email", "alice@example.com", "--password-stdin", "--json")
		if created["id"] == "" || created["username"] != "alice" || len(created) != 2 {
			t.Fatalf("users create --json = %v, want exactly id and username", created)
		}
		if strings.Contains(out, password) {
			t.Fatal("users create prints the password")
		}
		id := created["id"]

		stderr := c.fails("another password here", "users", "create", "--username", "ALICE", "--email", "other@example.com", "--password-stdin")
		if !strings.Contains(stderr, "already taken") {
			t.Fatalf("duplicate username: %q, want \"already taken\"", stderr)
		}
		if stderr := c.fails("", "users", "create", "--username", "bob", "--email", "bob@example.com", "--password", password); !strings.Contains(stderr, "unknown flag") {
			t.Fatalf("--password as a flag: %q, want unknown flag", stderr)
		}
		if stderr := c.fails("short\n", "users", "create", "--username", "bob", "--email", "bob@example.com", "--password-stdin"); !strings.Contains(stderr, "at least 10") {
			t.Fatalf("short password: %q", stderr)
		}

		var user map[string]any
		for _, key := range []string{id, "alice"} {
			raw := c.ok(&user, "", "users", "get", key, "--json")
			if user["id"] != id || user["email"] != "alice@example.com" || user["has_password"] != true || user["disabled"] != false {
				t.Fatalf("users get %s = %v", key, user)
			}
			if strings.Contains(raw, "argon2") {
				t.Fatal("users get shows the password hash")
			}
		}
		var list []map[string]any
		c.ok(&list, "", "users", "list", "--json")
		if len(list) != 1 || list[0]["username"] != "alice" {
			t.Fatalf("users list = %v", list)
		}

		c.ok(nil, "another long password\n", "users", "set-password", "alice", "--password-stdin")
		if stderr := c.fails("", "users", "set-password", "alice"); !strings.Contains(stderr, "--password-stdin") {
			t.Fatalf("set-password without --password-stdin: %q", stderr)
		}
		var state struct {
			ID       string `json:"id"`
			Disabled bool   `json:"disabled"`
		}
		c.ok(&state, "", "users", "disable", "alice", "--json")
		if state.ID != id || !state.Disabled {
			t.Fatalf("users disable = %+v", state)
		}
		c.ok(&user, "", "users", "get", id, "--json")
		if user["disabled"] != true {
			t.Fatal("users get after disable: not disabled")
		}
		c.ok(&state, "", "users", "enable", id, "--json")
		if state.Disabled {
			t.Fatal("users enable: still disabled")
		}
		c.ok(nil, "", "users", "delete", "alice")
		if stderr := c.fails("", "users", "get", id); !strings.Contains(stderr, "not found") {
			t.Fatalf("users get after delete: %q", stderr)
		}
	})
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// testJWKS is a public P-256 key.
const testJWKS = `{"keys":[{"kty":"EC","crv":"P-256","kid":"k1","use":"sig",
"x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}`
