package storagetest

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/storage"
)

// The second-factor part of the suite: require-mfa flags, pending and active
// authenticator apps, replay protection and recovery codes.

func testRequireMFAFlags(t *testing.T, s storage.Store) {
	ctx := ctxT(t)
	u := &storage.User{ID: "u-1", Username: "mia", RequireMFA: true}
	must(t, "create user", s.CreateUser(ctx, u))
	c := &storage.Client{ID: "app", Name: "App", RequireMFA: true}
	must(t, "create client", s.CreateClient(ctx, c))
	gotU, err := s.FindUser(ctx, "u-1")
	must(t, "find user", err)
	gotC, err := s.FindClient(ctx, "app")
	must(t, "find client", err)
	if !gotU.RequireMFA || !gotC.RequireMFA {
		t.Fatalf("require_mfa lost: user %v, client %v", gotU.RequireMFA, gotC.RequireMFA)
	}
	must(t, "update user", s.UpdateUser(ctx, "u-1", func(u *storage.User) error { u.RequireMFA = false; return nil }))
	must(t, "update client", s.UpdateClient(ctx, "app", func(c *storage.Client) error { c.RequireMFA = false; return nil }))
	gotU, _ = s.FindUser(ctx, "u-1")
	gotC, _ = s.FindClient(ctx, "app")
	if gotU.RequireMFA || gotC.RequireMFA {
		t.Fatalf("require_mfa not cleared: user %v, client %v", gotU.RequireMFA, gotC.RequireMFA)
	}
}

func testTOTPEnrollment(t *testing.T, s storage.Store) {
	ctx := ctxT(t)
	seedUser(t, s, "u-1", "nina")
	seedUser(t, s, "u-2", "omar")
	_, err := s.FindTOTPEnrollment(ctx, "u-1")
	mustNotFound(t, "no enrollment", err)

	created := time.Date(2025, 3, 4, 5, 6, 7, 891000, time.FixedZone("CET", 3600))
	e := &storage.TOTPEnrollment{UserID: "u-1", SecretCiphertext: []byte{1, 2, 3}, CreatedAt: created, ExpiresAt: time.Now().Add(10 * time.Minute)}
	must(t, "save", s.SaveTOTPEnrollment(ctx, e))
	got, err := s.FindTOTPEnrollment(ctx, "u-1")
	must(t, "find", err)
	if !bytes.Equal(got.SecretCiphertext, []byte{1, 2, 3}) || !got.CreatedAt.Equal(created) || got.CreatedAt.Location() != time.UTC {
		t.Fatalf("enrollment round trip: %+v", got)
	}
	// Saving again replaces the pending enrollment (one per user).
	must(t, "replace", s.SaveTOTPEnrollment(ctx, &storage.TOTPEnrollment{UserID: "u-1", SecretCiphertext: []byte{9}, ExpiresAt: time.Now().Add(time.Minute)}))
	if got, _ := s.FindTOTPEnrollment(ctx, "u-1"); got == nil || !bytes.Equal(got.SecretCiphertext, []byte{9}) {
		t.Fatalf("enrollment not replaced: %+v", got)
	}
	// Expired enrollments are not found, and DeleteExpired removes them.
	must(t, "expired", s.SaveTOTPEnrollment(ctx, &storage.TOTPEnrollment{UserID: "u-2", SecretCiphertext: []byte{7}, ExpiresAt: time.Now().Add(-time.Second)}))
	_, err = s.FindTOTPEnrollment(ctx, "u-2")
	mustNotFound(t, "expired enrollment", err)
	must(t, "delete expired", s.DeleteExpired(ctx, time.Now()))
	must(t, "renew after clean-up", s.SaveTOTPEnrollment(ctx, &storage.TOTPEnrollment{UserID: "u-2", SecretCiphertext: []byte{8}, ExpiresAt: time.Now().Add(time.Minute)}))
	if _, err := s.FindTOTPEnrollment(ctx, "u-1"); err != nil {
		t.Fatalf("DeleteExpired removed a live enrollment: %v", err)
	}
}

func recoveryCodes(userID string, n int, prefix string) []*storage.RecoveryCode {
	out := make([]*storage.RecoveryCode, n)
	for i := range out {
		out[i] = &storage.RecoveryCode{ID: fmt.Sprintf("%s-%s-%d", userID, prefix, i), UserID: userID, Digest: []byte(fmt.Sprintf("%s-digest-%d", prefix, i))}
	}
	return out
}

func testTOTPCredential(t *testing.T, s storage.Store) {
	ctx := ctxT(t)
	seedUser(t, s, "u-1", "pia")
	_, err := s.FindTOTPCredential(ctx, "u-1")
	mustNotFound(t, "no credential", err)
	must(t, "enroll", s.SaveTOTPEnrollment(ctx, &storage.TOTPEnrollment{UserID: "u-1", SecretCiphertext: []byte("pending"), ExpiresAt: time.Now().Add(time.Minute)}))
	// FindUser tells whether an app is enrolled; a pending enrollment is not one.
	if u, err := s.FindUser(ctx, "u-1"); err != nil || u.HasTOTP {
		t.Fatalf("user with a pending enrollment: HasTOTP %v (%v)", u != nil && u.HasTOTP, err)
	}

	c := &storage.TOTPCredential{UserID: "u-1", SecretCiphertext: []byte("sealed"), LastStep: 1000}
	must(t, "activate", s.ActivateTOTP(ctx, c, recoveryCodes("u-1", 10, "a")))
	if u, err := s.FindUser(ctx, "u-1"); err != nil || !u.HasTOTP {
		t.Fatalf("user with an active app: HasTOTP false (%v)", err)
	}
	_, err = s.FindTOTPEnrollment(ctx, "u-1")
	mustNotFound(t, "enrollment after activation", err)
	got, err := s.FindTOTPCredential(ctx, "u-1")
	must(t, "find", err)
	if string(got.SecretCiphertext) != "sealed" || got.LastStep != 1000 || got.CreatedAt.IsZero() || got.CreatedAt.Location() != time.UTC {
		t.Fatalf("credential round trip: %+v", got)
	}
	codes, err := s.ListRecoveryCodes(ctx, "u-1")
	must(t, "list codes", err)
	if len(codes) != 10 || codes[0].UserID != "u-1" || !codes[0].UsedAt.IsZero() || len(codes[0].Digest) == 0 {
		t.Fatalf("recovery codes after activation: %d, first %+v", len(codes), codes[0])
	}

	// A second activation fails as a whole: the first codes stay.
	err = s.ActivateTOTP(ctx, &storage.TOTPCredential{UserID: "u-1", SecretCiphertext: []byte("other")}, recoveryCodes("u-1", 10, "b"))
	if !errors.Is(err, storage.ErrAlreadyExists) {
		t.Fatalf("second activation: want ErrAlreadyExists, got %v", err)
	}
	if codes, _ := s.ListRecoveryCodes(ctx, "u-1"); len(codes) != 10 || codes[0].ID != "u-1-a-0" {
		t.Fatal("a failed activation replaced the recovery codes")
	}

	// Steps only move forward.
	for _, tc := range []struct {
		step int64
		want bool
	}{{999, false}, {1000, false}, {1001, true}, {1001, false}, {1003, true}, {1002, false}} {
		ok, err := s.AcceptTOTPStep(ctx, "u-1", tc.step)
		must(t, "accept step", err)
		if ok != tc.want {
			t.Fatalf("AcceptTOTPStep(%d) = %v, want %v", tc.step, ok, tc.want)
		}
	}
	if ok, err := s.AcceptTOTPStep(ctx, "nobody", 5000); ok || err != nil {
		t.Fatalf("AcceptTOTPStep for a user without credential = %v, %v", ok, err)
	}
}

// Two requests presenting the same code at the same moment: the conditional
// update lets exactly one through.
func testConcurrentTOTPStep(t *testing.T, s storage.Store) {
	const n = 8
	ctx := ctxT(t)
	seedUser(t, s, "u-1", "quinn")
	must(t, "activate", s.ActivateTOTP(ctx, &storage.TOTPCredential{UserID: "u-1", SecretCiphertext: []byte("x"), LastStep: 10}, nil))
	for round := int64(11); round <= 13; round++ {
		var ready, done sync.WaitGroup
		ready.Add(n)
		start := make(chan struct{})
		results := make([]bool, n)
		errs := make([]error, n)
		for i := range n {
			done.Add(1)
			go func() {
				defer done.Done()
				ready.Done()
				<-start
				results[i], errs[i] = s.AcceptTOTPStep(ctx, "u-1", round)
			}()
		}
		ready.Wait()
		close(start)
		done.Wait()
		winners := 0
		for i := range n {
			must(t, "concurrent accept", errs[i])
			if results[i] {
				winners++
			}
		}
		if winners != 1 {
			t.Fatalf("step %d: %d of %d concurrent requests accepted it, want exactly 1", round, winners, n)
		}
	}
}

func testRecoveryCodes(t *testing.T, s storage.Store) {
	ctx := ctxT(t)
	seedUser(t, s, "u-1", "rosa")
	seedUser(t, s, "u-2", "sam")
	must(t, "replace", s.ReplaceRecoveryCodes(ctx, "u-1", recoveryCodes("u-1", 3, "a")))
	must(t, "other user", s.ReplaceRecoveryCodes(ctx, "u-2", recoveryCodes("u-2", 2, "a")))
	if err := s.ReplaceRecoveryCodes(ctx, "u-1", recoveryCodes("u-2", 1, "x")); err == nil {
		t.Fatal("ReplaceRecoveryCodes stored another user's code")
	}
	if codes, _ := s.ListRecoveryCodes(ctx, "u-1"); len(codes) != 3 {
		t.Fatalf("a refused replacement changed the codes: %d left", len(codes))
	}

	used := time.Date(2025, 6, 7, 8, 9, 10, 0, time.UTC)
	if ok, err := s.UseRecoveryCode(ctx, "u-1", "u-1-a-1", used); !ok || err != nil {
		t.Fatalf("first use: %v, %v", ok, err)
	}
	if ok, err := s.UseRecoveryCode(ctx, "u-1", "u-1-a-1", used); ok || err != nil {
		t.Fatalf("second use: %v, %v; want false", ok, err)
	}
	if ok, _ := s.UseRecoveryCode(ctx, "u-2", "u-1-a-2", used); ok {
		t.Fatal("a user used another user's code")
	}
	codes, err := s.ListRecoveryCodes(ctx, "u-1")
	must(t, "list", err)
	if len(codes) != 3 || !codes[1].UsedAt.Equal(used) || !codes[0].UsedAt.IsZero() || !codes[2].UsedAt.IsZero() {
		t.Fatalf("used_at not recorded on exactly the used code: %+v %+v %+v", codes[0], codes[1], codes[2])
	}

	// Concurrent use of one code: exactly one wins.
	const n = 8
	var ready, done sync.WaitGroup
	ready.Add(n)
	start := make(chan struct{})
	wins := make([]bool, n)
	for i := range n {
		done.Add(1)
		go func() {
			defer done.Done()
			ready.Done()
			<-start
			wins[i], _ = s.UseRecoveryCode(ctx, "u-1", "u-1-a-2", used)
		}()
	}
	ready.Wait()
	close(start)
	done.Wait()
	winners := 0
	for _, w := range wins {
		if w {
			winners++
		}
	}
	if winners != 1 {
		t.Fatalf("%d of %d concurrent uses of one recovery code succeeded, want 1", winners, n)
	}

	// Replacing invalidates the old set and leaves other users alone.
	must(t, "regenerate", s.ReplaceRecoveryCodes(ctx, "u-1", recoveryCodes("u-1", 10, "b")))
	codes, _ = s.ListRecoveryCodes(ctx, "u-1")
	if len(codes) != 10 || codes[0].ID != "u-1-b-0" {
		t.Fatalf("after regeneration: %d codes, first %q", len(codes), codes[0].ID)
	}
	if ok, _ := s.UseRecoveryCode(ctx, "u-1", "u-1-a-0", used); ok {
		t.Fatal("a code of the old set still works")
	}
	if others, _ := s.ListRecoveryCodes(ctx, "u-2"); len(others) != 2 {
		t.Fatalf("another user's codes changed: %d", len(others))
	}
}

func testDeleteSecondFactor(t *testing.T, s storage.Store) {
	ctx := ctxT(t)
	for _, id := range []string{"u-1", "u-2"} {
		seedUser(t, s, id, "user-"+id)
		must(t, "activate", s.ActivateTOTP(ctx, &storage.TOTPCredential{UserID: id, SecretCiphertext: []byte("x"), LastStep: 1}, recoveryCodes(id, 2, "a")))
		must(t, "enroll", s.SaveTOTPEnrollment(ctx, &storage.TOTPEnrollment{UserID: id, SecretCiphertext: []byte("y"), ExpiresAt: time.Now().Add(time.Minute)}))
	}
	removed, err := s.DeleteSecondFactor(ctx, "u-1")
	if err != nil || !removed {
		t.Fatalf("DeleteSecondFactor = %v, %v; want true", removed, err)
	}
	if removed, err := s.DeleteSecondFactor(ctx, "u-1"); err != nil || removed {
		t.Fatalf("second DeleteSecondFactor = %v, %v; want false, nil", removed, err)
	}
	_, err = s.FindTOTPCredential(ctx, "u-1")
	mustNotFound(t, "credential after delete", err)
	_, err = s.FindTOTPEnrollment(ctx, "u-1")
	mustNotFound(t, "enrollment after delete", err)
	if codes, _ := s.ListRecoveryCodes(ctx, "u-1"); len(codes) != 0 {
		t.Fatalf("%d recovery codes left after delete", len(codes))
	}
	if _, err := s.FindTOTPCredential(ctx, "u-2"); err != nil {
		t.Fatalf("another user's credential went too: %v", err)
	}

	// Deleting the user removes everything of theirs.
	must(t, "delete user", s.DeleteUser(ctx, "u-2"))
	_, err = s.FindTOTPCredential(ctx, "u-2")
	mustNotFound(t, "credential of a deleted user", err)
	if codes, _ := s.ListRecoveryCodes(ctx, "u-2"); len(codes) != 0 {
		t.Fatalf("%d recovery codes of a deleted user left", len(codes))
	}
	seedUser(t, s, "u-2", "user-u-2")
	_, err = s.FindTOTPEnrollment(ctx, "u-2")
	mustNotFound(t, "enrollment of a deleted user", err)
}
