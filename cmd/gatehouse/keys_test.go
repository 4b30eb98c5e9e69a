package main

import (
	"strings"
	"testing"
)

type keyOut struct {
	KID   string `json:"kid"`
	Alg   string `json:"alg"`
	State string `json:"state"`
}

func TestKeysCommands(t *testing.T) {
	backendCLIs(t, func(t *testing.T, c *cli) {
		c.ok(nil, "", "migrate")
		var list []keyOut
		c.ok(&list, "", "keys", "list", "--json")
		if len(list) != 0 {
			t.Fatalf("keys list on a fresh database = %v, want none", list)
		}

		var first, es, next keyOut
		c.ok(&first, "", "keys", "rotate", "--json")
		c.ok(&es, "", "keys", "rotate", "--alg", "ES256", "--json")
		if first.Alg != "RS256" || es.Alg != "ES256" || first.KID == "" || es.KID == "" {
			t.Fatalf("keys rotate = %+v and %+v", first, es)
		}
		// With an active RS256 key, a rotation waits for the JWKS caches.
		c.ok(&next, "", "keys", "rotate", "--alg", "RS256", "--json")
		states := keyStates(t, c)
		if states[first.KID] != "active" || states[es.KID] != "active" || states[next.KID] != "next" {
			t.Fatalf("key states = %v, want %s and %s active, %s next", states, first.KID, es.KID, next.KID)
		}

		if stderr := c.fails("", "keys", "retire", "--", first.KID); !strings.Contains(stderr, "signs now") {
			t.Fatalf("retiring the active key: %q, want a refusal", stderr)
		}
		if stderr := c.fails("", "keys", "retire", "no-such-kid"); !strings.Contains(stderr, "not found") {
			t.Fatalf("retiring an unknown key: %q", stderr)
		}
		// Base64url key ids may begin with '-'; after "--" one is an id.
		if stderr := c.fails("", "keys", "retire", "--", "-no-such-kid"); !strings.Contains(stderr, "not found") {
			t.Fatalf("retiring an unknown key whose id begins with '-': %q", stderr)
		}

		// An emergency rotation takes over at once; the old key may still
		// have live tokens, so only --force retires it.
		var now keyOut
		c.ok(&now, "", "keys", "rotate", "--now", "--json")
		states = keyStates(t, c)
		if states[now.KID] != "active" || states[first.KID] == "active" {
			t.Fatalf("after rotate --now: %v, want %s active", states, now.KID)
		}
		if stderr := c.fails("", "keys", "retire", "--", first.KID); !strings.Contains(stderr, "--force") {
			t.Fatalf("retiring a young key: %q, want a hint to --force", stderr)
		}
		c.ok(nil, "", "keys", "retire", "--force", "--json", "--", first.KID)
		if states = keyStates(t, c); states[first.KID] != "retired" {
			t.Fatalf("after retire: %v, want %s retired", states, first.KID)
		}
		if out := c.ok(nil, "", "keys", "list"); !strings.Contains(out, first.KID) || !strings.Contains(out, "retired") {
			t.Fatalf("keys list:\n%s", out)
		}

		// Another secret would seal keys the server cannot open.
		c.env["GATEHOUSE_SECRET"] = "a-different-secret-0123456789abcdefgh"
		if stderr := c.fails("", "keys", "rotate"); !strings.Contains(stderr, "does not open") {
			t.Fatalf("rotate with another secret: %q, want a refusal", stderr)
		}
	})
}

func keyStates(t *testing.T, c *cli) map[string]string {
	t.Helper()
	var list []keyOut
	c.ok(&list, "", "keys", "list", "--json")
	states := map[string]string{}
	for _, k := range list {
		states[k.KID] = k.State
	}
	return states
}
