package main

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/gatehouse/gatehouse/storage"
	"github.com/gatehouse/gatehouse/storage/sqlstore"
)

// store opens the database the CLI uses.
func (c *cli) store() storage.Store {
	c.t.Helper()
	dsn := c.env["GATEHOUSE_DSN"]
	if dsn == "" {
		dsn = "sqlite://" + filepath.Join(c.dir, "gatehouse.db")
	}
	s, err := sqlstore.Open(context.Background(), dsn, sqlstore.Options{})
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestSecondFactorCommands(t *testing.T) {
	backendCLIs(t, func(t *testing.T, c *cli) {
		ctx := context.Background()
		c.ok(nil, "", "migrate")
		var created struct{ ID string }
		c.ok(&created, "a fine password 123\n", "users", "create", "--username", "mila", "--email", "mila@example.com", "--password-stdin", "--json")

		type flagOut struct {
			ID         string `json:"id"`
			Username   string `json:"username"`
			RequireMFA bool   `json:"require_mfa"`
		}
		var on, off flagOut
		c.ok(&on, "", "users", "require-mfa", "mila", "--json")
		if on.ID != created.ID || on.Username != "mila" || !on.RequireMFA {
			t.Fatalf("users require-mfa --json = %+v", on)
		}
		var got struct {
			RequireMFA bool `json:"require_mfa"`
		}
		c.ok(&got, "", "users", "get", "mila", "--json")
		if !got.RequireMFA {
			t.Fatal("users get does not show require_mfa")
		}
		// "--": a random id may start with "-".
		c.ok(&off, "", "users", "require-mfa", "--off", "--json", "--", created.ID)
		if off.RequireMFA {
			t.Fatalf("users require-mfa --off --json = %+v", off)
		}
		c.fails("", "users", "require-mfa", "nobody")

		// reset-mfa removes the authenticator app and the sessions.
		s := c.store()
		if err := s.ActivateTOTP(ctx, &storage.TOTPCredential{UserID: created.ID, SecretCiphertext: []byte("sealed"), LastStep: 1}, nil); err != nil {
			t.Fatal(err)
		}
		var reset struct {
			ID          string `json:"id"`
			TOTPRemoved bool   `json:"totp_removed"`
		}
		c.ok(&reset, "", "users", "reset-mfa", "mila", "--json")
		if reset.ID != created.ID || !reset.TOTPRemoved {
			t.Fatalf("users reset-mfa --json = %+v", reset)
		}
		if _, err := s.FindTOTPCredential(ctx, created.ID); err == nil {
			t.Fatal("the authenticator app survived reset-mfa")
		}
		c.ok(&reset, "", "users", "reset-mfa", "mila", "--json")
		if reset.TOTPRemoved {
			t.Fatal("a second reset-mfa reports a removal")
		}

		var client map[string]string
		c.ok(&client, "", "clients", "create", "--name", "Payroll", "--redirect-uri", "https://payroll.example.com/cb", "--require-mfa", "--json")
		var shown struct {
			RequireMFA bool `json:"require_mfa"`
		}
		c.ok(&shown, "", "clients", "get", "--json", "--", client["client_id"])
		if !shown.RequireMFA {
			t.Fatal("clients create --require-mfa was not stored")
		}
	})
}
