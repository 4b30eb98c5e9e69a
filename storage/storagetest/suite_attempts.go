package storagetest

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/storage"
)

func testAttemptCounters(t *testing.T, s storage.Store) {
	ctx := ctxT(t)
	now := time.Now().UTC().Truncate(time.Second)
	bump := func(c *storage.AttemptCounter) error {
		c.Failures++
		c.WindowStart = now
		c.ExpiresAt = now.Add(time.Hour)
		return nil
	}
	got, err := s.FindAttemptCounters(ctx, "pwd:ann|1.2.3.4")
	must(t, "find none", err)
	if len(got) != 0 {
		t.Fatalf("counters before any failure: %v", got)
	}
	must(t, "first failure", s.UpdateAttemptCounter(ctx, "pwd:ann|1.2.3.4", bump))
	must(t, "second failure", s.UpdateAttemptCounter(ctx, "pwd:ann|1.2.3.4", bump))
	must(t, "other key", s.UpdateAttemptCounter(ctx, "pwd:ann|5.6.7.8", func(c *storage.AttemptCounter) error {
		c.Failures, c.Lockouts, c.LockedUntil, c.ExpiresAt = 5, 1, now.Add(time.Minute), now.Add(time.Hour)
		return nil
	}))
	must(t, "unrelated key", s.UpdateAttemptCounter(ctx, "pwd:annabel|1.2.3.4", bump))
	abort := errors.New("abort")
	if err := s.UpdateAttemptCounter(ctx, "pwd:ann|1.2.3.4", func(c *storage.AttemptCounter) error { c.Failures = 99; return abort }); !errors.Is(err, abort) {
		t.Fatalf("aborted update: %v", err)
	}
	got, err = s.FindAttemptCounters(ctx, "pwd:ann|1.2.3.4", "pwd:ann|5.6.7.8", "nope")
	must(t, "find", err)
	if len(got) != 2 || got["pwd:ann|1.2.3.4"].Failures != 2 || !got["pwd:ann|5.6.7.8"].LockedUntil.Equal(now.Add(time.Minute)) || got["pwd:ann|5.6.7.8"].Lockouts != 1 {
		t.Fatalf("counters = %+v %+v", got["pwd:ann|1.2.3.4"], got["pwd:ann|5.6.7.8"])
	}

	// Concurrent failures are all counted.
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.UpdateAttemptCounter(ctx, "addr:9.9.9.9", bump); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	got, _ = s.FindAttemptCounters(ctx, "addr:9.9.9.9")
	if got["addr:9.9.9.9"].Failures != 8 {
		t.Errorf("concurrent failures counted %d, want 8", got["addr:9.9.9.9"].Failures)
	}

	// Unlocking an account on every address deletes by prefix, and a
	// LIKE wildcard in the prefix matches only itself.
	must(t, "delete by prefix", s.DeleteAttemptCountersByPrefix(ctx, "pwd:ann|"))
	got, _ = s.FindAttemptCounters(ctx, "pwd:ann|1.2.3.4", "pwd:ann|5.6.7.8", "pwd:annabel|1.2.3.4")
	if len(got) != 1 || got["pwd:annabel|1.2.3.4"] == nil {
		t.Errorf("after delete by prefix: %v", got)
	}
	must(t, "wildcard prefix", s.DeleteAttemptCountersByPrefix(ctx, "pwd:ann%"))
	if got, _ := s.FindAttemptCounters(ctx, "pwd:annabel|1.2.3.4"); len(got) != 1 {
		t.Error("a % in the prefix acted as a wildcard")
	}
	must(t, "delete", s.DeleteAttemptCounters(ctx, "pwd:annabel|1.2.3.4", "addr:9.9.9.9"))
	if got, _ := s.FindAttemptCounters(ctx, "pwd:annabel|1.2.3.4", "addr:9.9.9.9"); len(got) != 0 {
		t.Errorf("after delete: %v", got)
	}

	// Expired counters are forgotten.
	must(t, "expiring", s.UpdateAttemptCounter(ctx, "old", func(c *storage.AttemptCounter) error {
		c.Failures, c.ExpiresAt = 1, now.Add(-time.Second)
		return nil
	}))
	must(t, "delete expired", s.DeleteExpired(ctx, now))
	if got, _ := s.FindAttemptCounters(ctx, "old"); len(got) != 0 {
		t.Error("expired counter kept")
	}
}

func testSignInEvents(t *testing.T, s storage.Store) {
	ctx := ctxT(t)
	seedUser(t, s, "u1", "ann")
	seedUser(t, s, "u2", "ben")
	base := time.Now().UTC().Truncate(time.Second)
	for i := range 5 {
		must(t, "record", s.RecordSignIn(ctx, &storage.SignInEvent{UserID: "u1", At: base.Add(time.Duration(i) * time.Minute), Address: "10.0.0.1", UserAgent: "Firefox", Methods: []string{"pwd", "otp"}}))
	}
	must(t, "record other user", s.RecordSignIn(ctx, &storage.SignInEvent{UserID: "u2", At: base, Address: "10.0.0.2"}))
	got, err := s.ListSignIns(ctx, "u1", 3)
	must(t, "list", err)
	if len(got) != 3 || !got[0].At.Equal(base.Add(4*time.Minute)) || !got[2].At.Equal(base.Add(2*time.Minute)) {
		t.Fatalf("recent sign-ins = %+v", got)
	}
	if got[0].Address != "10.0.0.1" || got[0].UserAgent != "Firefox" || !slices.Equal(got[0].Methods, []string{"pwd", "otp"}) || got[0].At.Location() != time.UTC {
		t.Errorf("round trip: %+v", got[0])
	}
	must(t, "delete user", s.DeleteUser(ctx, "u2"))
	if got, _ := s.ListSignIns(ctx, "u2", 10); len(got) != 0 {
		t.Error("sign-ins of a deleted user kept")
	}
}
