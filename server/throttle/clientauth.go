package throttle

import (
	"sync"
	"time"

	"github.com/gatehouse/gatehouse/server/policy"
	"github.com/gatehouse/gatehouse/storage"
)

// ClientAuth limits client-authentication failures per source address, in
// memory: it protects the token, introspection and revocation endpoints
// from secret guessing without a database round trip on the hot path.
type ClientAuth struct {
	policy policy.Lockout
	now    func() time.Time

	mu       sync.Mutex
	counters map[string]*storage.AttemptCounter
	swept    time.Time
}

// maxClientAuthEntries bounds the addresses tracked at once.
const maxClientAuthEntries = 100_000

// DefaultClientAuthLockout locks an address after 20 failures in a minute.
func DefaultClientAuthLockout() policy.Lockout {
	return policy.Lockout{Threshold: 20, Window: time.Minute, Durations: []time.Duration{time.Minute, 5 * time.Minute, 15 * time.Minute}}
}

// NewClientAuth returns a limiter; a zero policy takes the default.
func NewClientAuth(p policy.Lockout, now func() time.Time) *ClientAuth {
	if !p.Valid() {
		p = DefaultClientAuthLockout()
	}
	if now == nil {
		now = time.Now
	}
	return &ClientAuth{policy: p, now: now, counters: map[string]*storage.AttemptCounter{}}
}

// Locked returns until when addr is refused, if it is.
func (c *ClientAuth) Locked(addr string) (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.policy.Locked(c.counters[addr], c.now())
}

// Failure counts a failed client authentication from addr.
func (c *ClientAuth) Failure(addr string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if now.Sub(c.swept) > time.Minute {
		for k, v := range c.counters {
			if now.After(v.ExpiresAt) {
				delete(c.counters, k)
			}
		}
		c.swept = now
	}
	counter := c.counters[addr]
	if counter == nil && len(c.counters) >= maxClientAuthEntries {
		// Bounded memory: a flood from very many addresses is not tracked
		// beyond this many (each of them is then limited by nothing more
		// than the secret's 256 bits).
		return
	}
	if counter == nil {
		counter = &storage.AttemptCounter{Key: addr}
		c.counters[addr] = counter
	}
	c.policy.RecordFailure(counter, now)
}
