package main

import (
	"strings"
	"testing"
)

func TestSignOutAndUnlockCommands(t *testing.T) {
	backendCLIs(t, func(t *testing.T, c *cli) {
		c.ok(nil, "", "migrate")
		var created map[string]string
		c.ok(&created, "a long enough password\n", "users", "create", "--username", "tess", "--email", "tess@example.com", "--password-stdin", "--json")

		var done struct {
			ID       string `json:"id"`
			Username string `json:"username"`
		}
		_, stderr, code := c.run("", "users", "sign-out", "tess", "--json")
		if code != 0 {
			t.Fatalf("users sign-out: %d %s", code, stderr)
		}
		c.ok(&done, "", "users", "unlock", "tess", "--json")
		if done.ID != created["id"] {
			t.Fatalf("users unlock = %+v", done)
		}
		c.fails("", "users", "unlock", "nobody")

		var client map[string]string
		c.ok(&client, "", "clients", "create", "--name", "Notes", "--redirect-uri", "https://notes.example/cb",
			"--backchannel-logout-uri", "https://notes.example/backchannel", "--json")
		var got map[string]any
		raw := c.ok(&got, "", "clients", "get", "--json", "--", client["client_id"])
		if !strings.Contains(raw, "https://notes.example/backchannel") {
			t.Errorf("clients get does not show the back-channel URI: %s", raw)
		}
		if stderr := c.fails("", "clients", "create", "--name", "Bad", "--redirect-uri", "https://notes.example/cb", "--backchannel-logout-uri", "http://notes.example/bc"); !strings.Contains(stderr, "backchannel_logout_uri") {
			t.Errorf("http back-channel URI: %q", stderr)
		}
	})
}
