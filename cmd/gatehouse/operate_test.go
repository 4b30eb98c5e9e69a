package main

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/server/keys"
	"github.com/gatehouse/gatehouse/server/secret"
	"github.com/gatehouse/gatehouse/storage"
)

// TestSecretsReencrypt seals keys and TOTP secrets with an old secret, runs
// "secrets reencrypt" with the new one and GATEHOUSE_SECRET_OLD, and checks
// that everything then opens with the new secret alone.
func TestSecretsReencrypt(t *testing.T) {
	const oldSecret = "the-old-secret-0123456789abcdefghijkl"
	backendCLIs(t, func(t *testing.T, c *cli) {
		ctx := context.Background()
		c.env["GATEHOUSE_SECRET"] = oldSecret
		c.ok(nil, "", "migrate")
		c.ok(nil, "", "keys", "rotate")
		c.ok(nil, "", "keys", "rotate", "--alg", "ES256")
		var u1, u2 struct{ ID string }
		c.ok(&u1, "a fine password 123\n", "users", "create", "--username", "rita", "--email", "rita@example.com", "--password-stdin", "--json")
		c.ok(&u2, "a fine password 123\n", "users", "create", "--username", "sam", "--email", "sam@example.com", "--password-stdin", "--json")

		oldRing, err := secret.NewKeyring([]byte(oldSecret))
		if err != nil {
			t.Fatal(err)
		}
		credAD := secret.AssociatedData("totp_credentials", "secret", u1.ID)
		enrollAD := secret.AssociatedData("totp_enrollments", "secret", u2.ID)
		seal := func(ad []byte) []byte {
			b, err := oldRing.AEAD(secret.PurposeAtRest).Seal([]byte("JBSWY3DPEHPK3PXP"), ad)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
		store := c.store()
		now := time.Now()
		if err := store.ActivateTOTP(ctx, &storage.TOTPCredential{UserID: u1.ID, SecretCiphertext: seal(credAD), CreatedAt: now}, nil); err != nil {
			t.Fatal(err)
		}
		if err := store.SaveTOTPEnrollment(ctx, &storage.TOTPEnrollment{UserID: u2.ID, SecretCiphertext: seal(enrollAD), CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}

		c.env["GATEHOUSE_SECRET"] = testSecret
		if stderr := c.fails("", "secrets", "reencrypt"); !strings.Contains(stderr, "GATEHOUSE_SECRET_OLD") {
			t.Fatalf("reencrypt without the old secret: %q, want a hint at GATEHOUSE_SECRET_OLD", stderr)
		}
		c.env["GATEHOUSE_SECRET_OLD"] = oldSecret
		var out struct {
			SigningKeys int `json:"signing_keys"`
			TOTPSecrets int `json:"totp_secrets"`
		}
		c.ok(&out, "", "secrets", "reencrypt", "--json")
		if out.SigningKeys != 2 || out.TOTPSecrets != 2 {
			t.Fatalf("reencrypt = %+v, want 2 keys and 2 TOTP secrets", out)
		}

		newOnly, err := secret.NewKeyring([]byte(testSecret))
		if err != nil {
			t.Fatal(err)
		}
		sealer := newOnly.AEAD(secret.PurposeAtRest)
		km := keys.NewManager(keys.Config{Store: store, Sealer: sealer})
		if err := km.Reload(ctx); err != nil {
			t.Errorf("signing keys after reencrypt do not open with the new secret alone: %v", err)
		}
		cred, err := store.FindTOTPCredential(ctx, u1.ID)
		if err != nil {
			t.Fatal(err)
		}
		if pt, err := sealer.Open(cred.SecretCiphertext, credAD); err != nil || string(pt) != "JBSWY3DPEHPK3PXP" {
			t.Errorf("TOTP credential after reencrypt: %q %v", pt, err)
		}
		enr, err := store.FindTOTPEnrollment(ctx, u2.ID)
		if err != nil {
			t.Fatal(err)
		}
		if pt, err := sealer.Open(enr.SecretCiphertext, enrollAD); err != nil || string(pt) != "JBSWY3DPEHPK3PXP" {
			t.Errorf("TOTP enrollment after reencrypt: %q %v", pt, err)
		}
	})
}

func TestCleanupCommand(t *testing.T) {
	c := newCLI(t)
	c.fails("", "cleanup") // the schema is not there yet
	c.ok(nil, "", "migrate")
	ctx := context.Background()
	store := c.store()
	now := time.Now()
	for key, expires := range map[string]time.Time{"old": now.Add(-time.Minute), "live": now.Add(time.Hour)} {
		err := store.UpdateAttemptCounter(ctx, key, func(a *storage.AttemptCounter) error {
			a.Failures, a.WindowStart, a.ExpiresAt = 1, now, expires
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	c.ok(nil, "", "cleanup")
	left, err := store.FindAttemptCounters(ctx, "old", "live")
	if err != nil {
		t.Fatal(err)
	}
	if left["old"] != nil || left["live"] == nil {
		t.Fatalf("after cleanup: old=%v live=%v, want only the live counter", left["old"] != nil, left["live"] != nil)
	}
}

func TestConfigFile(t *testing.T) {
	c := newCLI(t)
	write := func(name, body string) string {
		p := filepath.Join(c.dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.yaml", `
issuer: https://auth.example.com
addr: 127.0.0.1:0
access-token-lifetime: 10m
trusted-proxies: [10.0.0.0/8, 192.168.1.1]
lockout: 5/10m/1m,5m
log-level: debug
`)
	c.ok(nil, "", "config", "check", good)

	// The README's example is a valid file.
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, example, _ := strings.Cut(string(readme), "### Configuration file\n")
	_, example, _ = strings.Cut(example, "```yaml\n")
	example, _, _ = strings.Cut(example, "```")
	if !strings.Contains(example, "issuer:") {
		t.Fatalf("README has no YAML example under \"Configuration file\"")
	}
	c.ok(nil, "", "config", "check", write("readme.yaml", example))

	for name, tc := range map[string]struct{ body, want string }{
		"unknown key":   {"issuer: https://auth.example.com\nisuer: typo\n", `unknown key "isuer"`},
		"bad duration":  {"issuer: https://auth.example.com\naccess-token-lifetime: soon\n", "access-token-lifetime"},
		"http issuer":   {"issuer: http://auth.example.com\n", "must be https"},
		"nested":        {"issuer:\n  url: https://auth.example.com\n", `key "issuer"`},
		"bad log level": {"issuer: https://auth.example.com\nlog-level: loud\n", "log level"},
		"not yaml":      {"issuer: [unclosed\n", "good"},
		"short secret":  {"issuer: https://auth.example.com\nsecret: short\n", "too short"},
		"missing cert":  {"issuer: https://auth.example.com\ntls-cert: /no/cert.pem\ntls-key: /no/key.pem\n", "TLS certificate"},
	} {
		t.Run(name, func(t *testing.T) {
			sc := c.sub(t)
			delete(sc.env, "GATEHOUSE_SECRET") // the environment would win over the file's
			p := write(strings.ReplaceAll(name, " ", "-")+".yaml", tc.body)
			stderr := sc.fails("", "config", "check", p)
			if tc.want != "good" && !strings.Contains(stderr, tc.want) {
				t.Errorf("config check: %q, want it to mention %q", stderr, tc.want)
			}
		})
	}

	t.Run("secret in a readable file", func(t *testing.T) {
		p := write("open.yaml", "issuer: https://auth.example.com\nsecret: "+testSecret+"\n")
		if err := os.Chmod(p, 0o644); err != nil {
			t.Fatal(err)
		}
		if stderr := c.sub(t).fails("", "config", "check", p); !strings.Contains(stderr, "chmod 600") {
			t.Errorf("config check: %q, want a refusal naming chmod 600", stderr)
		}
	})

	t.Run("precedence", func(t *testing.T) {
		// The file names a bad issuer: serve refuses it unless the
		// environment or a flag overrides it.
		p := write("bad-issuer.yaml", "issuer: http://example.com\nno-migrate: true\n")
		if stderr := c.sub(t).fails("", "serve", "--config", p); !strings.Contains(stderr, "http://example.com") {
			t.Errorf("serve --config: %q, want the file's issuer refused", stderr)
		}
		sc := c.sub(t)
		sc.env["GATEHOUSE_CONFIG"] = p
		if stderr := sc.fails("", "serve"); !strings.Contains(stderr, "http://example.com") {
			t.Errorf("serve with the file's issuer: %q", stderr)
		}
		sc.env["GATEHOUSE_ISSUER"] = "https://env.example.com"
		// The environment's issuer wins; the file's no-migrate then stops
		// serve on the fresh database.
		if stderr := sc.fails("", "serve"); !strings.Contains(stderr, "pending migrations") {
			t.Errorf("serve with the environment's issuer: %q, want the file's no-migrate to refuse", stderr)
		}
		if stderr := sc.fails("", "serve", "--issuer", "http://flag.example.com"); !strings.Contains(stderr, "http://flag.example.com") {
			t.Errorf("serve with --issuer: %q, want the flag's issuer checked", stderr)
		}
	})
}

// sub returns a copy of c for the subtest t, sharing c's data directory.
func (c *cli) sub(t *testing.T) *cli {
	return &cli{t: t, dir: c.dir, env: maps.Clone(c.env)}
}
