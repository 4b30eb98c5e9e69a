package manage_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/server/manage"
	"github.com/gatehouse/gatehouse/server/mfa"
	"github.com/gatehouse/gatehouse/storage"
	"github.com/gatehouse/gatehouse/storage/storagetest"
)

func TestRequireMFAAndReset(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, storagetest.SQLiteDSN(t))
	u, err := f.svc.CreateUser(ctx, manage.UserSpec{Username: "mara", Email: "mara@example.com", Password: goodPassword})
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.svc.SetRequireMFA(ctx, "MARA", true)
	if err != nil || !got.RequireMFA {
		t.Fatalf("SetRequireMFA(true) = %+v, %v", got, err)
	}
	if stored, _ := f.store.FindUser(ctx, u.ID); !stored.RequireMFA {
		t.Fatal("require_mfa was not stored")
	}
	if got, err = f.svc.SetRequireMFA(ctx, u.ID, false); err != nil || got.RequireMFA {
		t.Fatalf("SetRequireMFA(false) = %+v, %v", got, err)
	}
	if _, err := f.svc.SetRequireMFA(ctx, "nobody", true); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("unknown user: %v", err)
	}

	// Reset removes the app, the codes, the lock and the sessions.
	now := time.Now()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(f.store.ActivateTOTP(ctx, &storage.TOTPCredential{UserID: u.ID, SecretCiphertext: []byte("x"), LastStep: 1},
		[]*storage.RecoveryCode{{ID: "rc-1", UserID: u.ID, Digest: []byte("d")}}))
	must(f.store.UpdateAttemptCounter(ctx, mfa.LockoutKey(u.ID), func(c *storage.AttemptCounter) error {
		c.Failures, c.LockedUntil, c.ExpiresAt = 5, now.Add(time.Hour), now.Add(time.Hour)
		return nil
	}))
	must(f.store.CreateBrowserSession(ctx, &storage.BrowserSession{ID: "bs-1", SID: "sid-1", UserID: u.ID, AuthTime: now, ExpiresAt: now.Add(time.Hour)}))

	_, removed, err := f.svc.ResetMFA(ctx, "mara")
	if err != nil || !removed {
		t.Fatalf("ResetMFA = %v, %v; want removed", removed, err)
	}
	if _, err := f.store.FindTOTPCredential(ctx, u.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("credential after reset: %v", err)
	}
	if codes, _ := f.store.ListRecoveryCodes(ctx, u.ID); len(codes) != 0 {
		t.Fatalf("%d recovery codes after reset", len(codes))
	}
	if counters, _ := f.store.FindAttemptCounters(ctx, mfa.LockoutKey(u.ID)); len(counters) != 0 {
		t.Fatal("the second-factor lock survived the reset")
	}
	if _, err := f.store.FindBrowserSession(ctx, "bs-1"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("session after reset: %v", err)
	}
	if _, removed, err := f.svc.ResetMFA(ctx, "mara"); err != nil || removed {
		t.Fatalf("second ResetMFA = %v, %v; want nothing removed", removed, err)
	}
}

func TestClientRequireMFA(t *testing.T) {
	f := newFixture(t, storagetest.SQLiteDSN(t))
	c, _, err := f.svc.CreateClient(context.Background(), manage.ClientSpec{
		Name: "Payroll", RedirectURIs: []string{"https://payroll.example.com/cb"}, RequireMFA: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if stored, _ := f.store.FindClient(context.Background(), c.ID); !stored.RequireMFA {
		t.Fatal("the client's require_mfa was not stored")
	}
}
