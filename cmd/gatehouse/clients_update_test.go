package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestClientsUpdateAndRotateSecret(t *testing.T) {
	backendCLIs(t, func(t *testing.T, c *cli) {
		c.ok(nil, "", "migrate")
		var created map[string]string
		c.ok(&created, "", "clients", "create", "--name", "Web app", "--redirect-uri", "https://app.example.com/cb", "--json")
		id, first := created["client_id"], created["client_secret"]

		var got clientOut
		c.ok(&got, "", "clients", "update", id, "--name", "Web app 2", "--redirect-uri", "https://app.example.com/cb2",
			"--skip-consent", "--access-token-format", "jwt", "--json")
		if got.ClientName != "Web app 2" || strings.Join(got.RedirectURIs, " ") != "https://app.example.com/cb2" || !got.SkipConsent || got.AccessTokenFormat != "jwt" {
			t.Fatalf("clients update = %+v", got)
		}
		// Flags not given stay as they are.
		c.ok(&got, "", "clients", "update", id, "--skip-consent=false", "--json")
		if got.ClientName != "Web app 2" || got.SkipConsent || got.Scope != "openid profile email offline_access" {
			t.Fatalf("partial clients update = %+v", got)
		}
		stderr := c.fails("", "clients", "update", id, "--redirect-uri", "http://app.example.com/cb", "--json")
		var errOut struct{ Error, Field string }
		if err := json.Unmarshal([]byte(stderr), &errOut); err != nil || errOut.Field != "redirect_uris" {
			t.Fatalf("invalid update: stderr %q, want a JSON error on redirect_uris", stderr)
		}
		if stderr := c.fails("", "clients", "update", "nope", "--name", "x"); !strings.Contains(stderr, "not found") {
			t.Fatalf("update of an unknown client: %q", stderr)
		}

		var rotated struct {
			ClientID       string     `json:"client_id"`
			ClientSecret   string     `json:"client_secret"`
			OldSecretUntil *time.Time `json:"previous_secret_expires_at"`
		}
		c.ok(&rotated, "", "clients", "rotate-secret", id, "--grace", "24h", "--json")
		if rotated.ClientID != id || len(rotated.ClientSecret) < 43 || rotated.ClientSecret == first ||
			rotated.OldSecretUntil == nil || time.Until(*rotated.OldSecretUntil) < 23*time.Hour {
			t.Fatalf("rotate-secret --grace 24h = %+v", rotated)
		}
		if raw := c.ok(nil, "", "clients", "get", id, "--json"); strings.Contains(raw, rotated.ClientSecret) || strings.Contains(raw, "digest") {
			t.Fatalf("clients get shows a secret: %s", raw)
		}
		out := c.ok(nil, "", "clients", "rotate-secret", id)
		if !strings.Contains(out, "client_secret: ") {
			t.Fatalf("rotate-secret output: %q", out)
		}
		if stderr := c.fails("", "clients", "rotate-secret", id, "--grace", "-1h"); !strings.Contains(stderr, "grace") {
			t.Fatalf("negative grace: %q", stderr)
		}
	})
}
