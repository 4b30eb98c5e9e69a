package storagetest

import (
	"bytes"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/storage"
)

// testVerifiedEmailUniqueness checks the registration rule: an unverified
// account does not reserve its address; a verified address is unique.
func testVerifiedEmailUniqueness(t *testing.T, s storage.Store) {
	ctx := ctxT(t)
	old := time.Now().UTC().Add(-time.Hour)
	must(t, "first unverified", s.CreateUser(ctx, &storage.User{ID: "u-1", Username: "ann", Email: "Ann@Example.org", CreatedAt: old}))
	must(t, "second unverified, same address", s.CreateUser(ctx, &storage.User{ID: "u-2", Username: "ann2", Email: "ann@example.ORG"}))

	users, err := s.FindUsersByEmail(ctx, " ANN@example.org")
	must(t, "find by email", err)
	if len(users) != 2 || users[0].ID != "u-2" || users[1].ID != "u-1" {
		t.Fatalf("unverified accounts by email: want u-2 (newest) then u-1, got %v", userIDs(users))
	}

	must(t, "verify the older one", s.UpdateUser(ctx, "u-1", func(u *storage.User) error {
		u.EmailVerified = true
		return nil
	}))
	users, err = s.FindUsersByEmail(ctx, "ann@example.org")
	must(t, "find by email", err)
	if len(users) != 2 || users[0].ID != "u-1" || !users[0].EmailVerified {
		t.Fatalf("by email: want the verified u-1 first, got %v", userIDs(users))
	}

	err = s.UpdateUser(ctx, "u-2", func(u *storage.User) error {
		u.EmailVerified = true
		return nil
	})
	if !errors.Is(err, storage.ErrAlreadyExists) {
		t.Fatalf("verifying an address another account verified: want ErrAlreadyExists, got %v", err)
	}
	err = s.CreateUser(ctx, &storage.User{ID: "u-3", Username: "ann3", Email: "ANN@example.org", EmailVerified: true})
	if !errors.Is(err, storage.ErrAlreadyExists) {
		t.Fatalf("creating a second verified account with the address: want ErrAlreadyExists, got %v", err)
	}
	must(t, "third unverified, same address", s.CreateUser(ctx, &storage.User{ID: "u-4", Username: "ann4", Email: "ann@example.org"}))

	users, err = s.FindUsersByEmail(ctx, "nobody@example.org")
	if err != nil || len(users) != 0 {
		t.Fatalf("unknown address: %v, %v", userIDs(users), err)
	}
	users, err = s.FindUsersByEmail(ctx, "")
	if err != nil || len(users) != 0 {
		t.Fatalf("empty address: %v, %v", userIDs(users), err)
	}
}

func userIDs(us []*storage.User) []string {
	out := make([]string, len(us))
	for i, u := range us {
		out[i] = u.ID
	}
	return out
}

func testMailTokens(t *testing.T, s storage.Store) {
	ctx := ctxT(t)
	seedUser(t, s, "u-1", "bea")
	seedUser(t, s, "u-2", "cal")
	now := time.Now().UTC().Truncate(time.Microsecond)
	want := &storage.MailToken{
		Digest: []byte("digest-reset-1"), Purpose: storage.MailResetPassword, UserID: "u-1",
		Email: "Bea@Example.org", CreatedAt: now, ExpiresAt: now.Add(30 * time.Minute),
	}
	must(t, "create", s.CreateMailToken(ctx, want))
	dup := *want
	if err := s.CreateMailToken(ctx, &dup); !errors.Is(err, storage.ErrAlreadyExists) {
		t.Fatalf("duplicate digest: want ErrAlreadyExists, got %v", err)
	}
	// Mails without a link carry no digest; any number of them may exist.
	for range 2 {
		must(t, "notice", s.CreateMailToken(ctx, &storage.MailToken{
			Purpose: storage.MailAccountExists, UserID: "u-1", Email: "bea@example.org", ExpiresAt: now.Add(time.Hour),
		}))
	}

	got, err := s.FindMailToken(ctx, storage.MailResetPassword, [][]byte{[]byte("other"), []byte("digest-reset-1")})
	must(t, "find among candidates", err)
	if !bytes.Equal(got.Digest, want.Digest) || got.UserID != "u-1" || got.Email != want.Email ||
		!got.CreatedAt.Equal(now) || !got.ExpiresAt.Equal(want.ExpiresAt) || !got.UsedAt.IsZero() || got.CreatedAt.Location() != time.UTC {
		t.Fatalf("mail token round trip: %+v", got)
	}
	_, err = s.FindMailToken(ctx, storage.MailVerifyEmail, [][]byte{[]byte("digest-reset-1")})
	mustNotFound(t, "find with another purpose", err)
	_, err = s.FindMailToken(ctx, storage.MailResetPassword, nil)
	mustNotFound(t, "find without digests", err)

	n, err := s.CountMailsSince(ctx, "BEA@example.org", now.Add(-time.Minute))
	must(t, "count", err)
	if n != 3 {
		t.Fatalf("mails to the address in the last minute: %d, want 3", n)
	}
	if n, _ := s.CountMailsSince(ctx, "bea@example.org", now.Add(time.Minute)); n != 0 {
		t.Fatalf("mails in the future: %d, want 0", n)
	}

	must(t, "use", s.UseMailToken(ctx, want.Digest, now.Add(time.Minute)))
	if err := s.UseMailToken(ctx, want.Digest, now.Add(2*time.Minute)); !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("second use: want ErrConflict, got %v", err)
	}
	got, err = s.FindMailToken(ctx, storage.MailResetPassword, [][]byte{want.Digest})
	must(t, "find used", err)
	if !got.UsedAt.Equal(now.Add(time.Minute)) {
		t.Fatalf("used_at = %v, want %v", got.UsedAt, now.Add(time.Minute))
	}
	mustNotFound(t, "use unknown", s.UseMailToken(ctx, []byte("nope"), now))

	expired := &storage.MailToken{Digest: []byte("digest-expired"), Purpose: storage.MailVerifyEmail, UserID: "u-1",
		Email: "bea@example.org", CreatedAt: now.Add(-25 * time.Hour), ExpiresAt: now.Add(-time.Hour)}
	must(t, "create expired", s.CreateMailToken(ctx, expired))
	if err := s.UseMailToken(ctx, expired.Digest, now); !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("use expired: want ErrConflict, got %v", err)
	}

	// A successful reset invalidates the user's other reset links only.
	for _, d := range []string{"r-a", "r-b"} {
		must(t, "create "+d, s.CreateMailToken(ctx, &storage.MailToken{Digest: []byte(d), Purpose: storage.MailResetPassword,
			UserID: "u-1", Email: "bea@example.org", ExpiresAt: now.Add(time.Hour)}))
	}
	must(t, "create other user's", s.CreateMailToken(ctx, &storage.MailToken{Digest: []byte("r-c"), Purpose: storage.MailResetPassword,
		UserID: "u-2", Email: "cal@example.org", ExpiresAt: now.Add(time.Hour)}))
	must(t, "verify link", s.CreateMailToken(ctx, &storage.MailToken{Digest: []byte("v-a"), Purpose: storage.MailVerifyEmail,
		UserID: "u-1", Email: "bea@example.org", ExpiresAt: now.Add(time.Hour)}))
	must(t, "use all", s.UseUserMailTokens(ctx, "u-1", storage.MailResetPassword, now))
	for d, usable := range map[string]bool{"r-a": false, "r-b": false, "r-c": true, "v-a": true} {
		err := s.UseMailToken(ctx, []byte(d), now)
		if (err == nil) != usable {
			t.Errorf("token %s after UseUserMailTokens: %v, want usable %v", d, err, usable)
		}
	}
}

func testMailTokenExpiryAndCascade(t *testing.T, s storage.Store) {
	ctx := ctxT(t)
	seedUser(t, s, "u-1", "dee")
	now := time.Now().UTC()
	tokens := map[string]time.Time{
		"recently-expired": now.Add(-time.Hour),      // kept: still tells "expired" from "unknown"
		"long-expired":     now.Add(-25 * time.Hour), // removed
		"live":             now.Add(time.Hour),
	}
	for d, exp := range tokens {
		must(t, "create "+d, s.CreateMailToken(ctx, &storage.MailToken{Digest: []byte(d), Purpose: storage.MailVerifyEmail,
			UserID: "u-1", Email: "dee@example.org", CreatedAt: exp.Add(-time.Hour), ExpiresAt: exp}))
	}
	must(t, "delete expired", s.DeleteExpired(ctx, now))
	for d := range tokens {
		_, err := s.FindMailToken(ctx, storage.MailVerifyEmail, [][]byte{[]byte(d)})
		if d == "long-expired" {
			mustNotFound(t, "find "+d, err)
		} else {
			must(t, "find "+d, err)
		}
	}
	must(t, "delete user", s.DeleteUser(ctx, "u-1"))
	_, err := s.FindMailToken(ctx, storage.MailVerifyEmail, [][]byte{[]byte("live")})
	mustNotFound(t, "token of a deleted user", err)
}

// testConcurrentMailTokenUse checks that a link is used exactly once when
// several requests race for it.
func testConcurrentMailTokenUse(t *testing.T, s storage.Store) {
	const n = 8
	ctx := ctxT(t)
	seedUser(t, s, "u-1", "eve")
	digest := []byte("digest-race")
	must(t, "create", s.CreateMailToken(ctx, &storage.MailToken{Digest: digest, Purpose: storage.MailResetPassword,
		UserID: "u-1", Email: "eve@example.org", ExpiresAt: time.Now().Add(time.Hour)}))

	var ready, done sync.WaitGroup
	ready.Add(n)
	start := make(chan struct{})
	errs := make([]error, n)
	for i := range n {
		done.Go(func() {
			ready.Done()
			<-start
			errs[i] = s.UseMailToken(ctx, digest, time.Now())
		})
	}
	ready.Wait()
	close(start)
	done.Wait()
	winners := 0
	for i, err := range errs {
		switch {
		case err == nil:
			winners++
		case !errors.Is(err, storage.ErrConflict):
			t.Errorf("request %d: want ErrConflict, got %v", i, err)
		}
	}
	if winners != 1 {
		t.Fatalf("%d of %d concurrent uses succeeded, want exactly 1", winners, n)
	}
}
