package policy

import (
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/storage"
)

func TestLockoutGrows(t *testing.T) {
	l := DefaultLockout()
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	c := &storage.AttemptCounter{}
	for i := 1; i <= 4; i++ {
		if l.RecordFailure(c, now) {
			t.Fatalf("locked after %d failures", i)
		}
	}
	if !l.RecordFailure(c, now) {
		t.Fatal("not locked after 5 failures")
	}
	if until, ok := l.Locked(c, now.Add(59*time.Second)); !ok || !until.Equal(now.Add(time.Minute)) {
		t.Fatalf("first lock until %v (%v)", until, ok)
	}
	if _, ok := l.Locked(c, now.Add(time.Minute)); ok {
		t.Fatal("still locked after a minute")
	}
	// The next lock lasts 5 minutes, then 15, then 15 again.
	for _, want := range []time.Duration{5 * time.Minute, 15 * time.Minute, 15 * time.Minute} {
		now = c.LockedUntil
		for range 5 {
			l.RecordFailure(c, now)
		}
		if until, ok := l.Locked(c, now); !ok || until.Sub(now) != want {
			t.Fatalf("lock of %v, want %v", until.Sub(now), want)
		}
	}
	// Failures spread wider than the window do not lock.
	c = &storage.AttemptCounter{}
	for i := range 10 {
		if l.RecordFailure(c, now.Add(time.Duration(i)*3*time.Minute)) {
			t.Fatalf("locked by failures %v apart", 3*time.Minute)
		}
	}
}
