package policy

import (
	"time"

	"github.com/gatehouse/gatehouse/storage"
)

// Lockout is a brute-force policy: Threshold failures within Window lock for
// Durations[0] the first time, Durations[1] the next, and so on (the last
// one repeats) until the counter is reset by a success or forgotten.
type Lockout struct {
	Threshold int
	Window    time.Duration
	Durations []time.Duration
}

// DefaultLockout is SECURITY.md's policy: 5 failures in 10 minutes lock for
// 1, then 5, then 15 minutes.
func DefaultLockout() Lockout {
	return Lockout{Threshold: 5, Window: 10 * time.Minute, Durations: []time.Duration{time.Minute, 5 * time.Minute, 15 * time.Minute}}
}

// Valid reports whether every field is set.
func (l Lockout) Valid() bool { return l.Threshold > 0 && l.Window > 0 && len(l.Durations) > 0 }

// counterMemory is how long a counter outlives its last failure, so that
// repeated locks keep growing within a day and are forgotten after.
const counterMemory = 24 * time.Hour

// Locked returns when the lock on c ends, if c is locked at now.
func (l Lockout) Locked(c *storage.AttemptCounter, now time.Time) (time.Time, bool) {
	if c == nil || !now.Before(c.LockedUntil) {
		return time.Time{}, false
	}
	return c.LockedUntil, true
}

// RecordFailure counts a failure at now into c; it reports whether the
// failure started a lock.
func (l Lockout) RecordFailure(c *storage.AttemptCounter, now time.Time) bool {
	if now.Sub(c.WindowStart) > l.Window || c.Failures == 0 {
		c.Failures, c.WindowStart = 0, now
	}
	c.Failures++
	c.ExpiresAt = now.Add(counterMemory)
	if c.Failures < l.Threshold {
		return false
	}
	c.LockedUntil = now.Add(l.Durations[min(c.Lockouts, len(l.Durations)-1)])
	c.Lockouts++
	c.Failures = 0
	c.ExpiresAt = c.LockedUntil.Add(counterMemory)
	return true
}
