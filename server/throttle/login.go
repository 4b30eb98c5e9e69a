package throttle

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/gatehouse/gatehouse/server/metrics"
	"github.com/gatehouse/gatehouse/server/policy"
	"github.com/gatehouse/gatehouse/storage"
)

// Kinds of sign-in attempt; each has its own counters.
const (
	KindPassword     = "pwd"
	KindSecondFactor = "mfa"
)

// Config configures a Limiter.
type Config struct {
	Store storage.AttemptCounters
	// Account locks an (account, address) pair; Address locks an address
	// across accounts (a higher threshold: many people may share one).
	Account, Address policy.Lockout
	// Delay is added per failure beyond the account threshold (all
	// addresses together) for browsers without the account's device
	// cookie; MaxDelay bounds it.
	Delay, MaxDelay time.Duration
	Now             func() time.Time
	Logger          *slog.Logger
	// Metrics counts lockouts; nil counts nothing.
	Metrics *metrics.Metrics
}

// DefaultAddressLockout locks an address after 50 failures in 10 minutes.
func DefaultAddressLockout() policy.Lockout {
	return policy.Lockout{Threshold: 50, Window: 10 * time.Minute, Durations: []time.Duration{time.Minute, 5 * time.Minute, 15 * time.Minute}}
}

// Limiter applies the sign-in lockout policy.
type Limiter struct {
	cfg Config
}

// New returns a Limiter; zero policies take the defaults.
func New(cfg Config) *Limiter {
	if !cfg.Account.Valid() {
		cfg.Account = policy.DefaultLockout()
	}
	if !cfg.Address.Valid() {
		cfg.Address = DefaultAddressLockout()
	}
	if cfg.Delay == 0 {
		cfg.Delay = time.Second
	}
	if cfg.MaxDelay == 0 {
		cfg.MaxDelay = 5 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Limiter{cfg: cfg}
}

// Attempt is one sign-in attempt: of what kind, for which account (a
// normalized username, or a user id for the second factor), from where, and
// whether the browser carries the account's device cookie.
type Attempt struct {
	Kind, Account, Addr string
	TrustedDevice       bool
}

func (a Attempt) pairKey() string    { return a.Kind + ":" + a.Account + "|" + a.Addr }
func (a Attempt) accountKey() string { return a.Kind + ":" + a.Account }
func (a Attempt) addrKey() string    { return "addr:" + a.Addr }

// LockedError says until when an attempt is refused.
type LockedError struct{ Until time.Time }

func (e *LockedError) Error() string {
	return "throttle: locked until " + e.Until.UTC().Format(time.RFC3339)
}

// Check refuses an attempt that is locked out (a *LockedError), and waits
// out the per-account delay. It is called before the credentials are checked.
func (l *Limiter) Check(ctx context.Context, a Attempt) error {
	if a.TrustedDevice {
		return nil
	}
	counters, err := l.cfg.Store.FindAttemptCounters(ctx, a.pairKey(), a.addrKey(), a.accountKey())
	if err != nil {
		return fmt.Errorf("load attempt counters: %w", err)
	}
	now := l.cfg.Now()
	for _, k := range []string{a.pairKey(), a.addrKey()} {
		if until, locked := l.cfg.Account.Locked(counters[k], now); locked {
			return &LockedError{Until: until}
		}
	}
	if c := counters[a.accountKey()]; c != nil && now.Sub(c.WindowStart) <= l.cfg.Account.Window && c.Failures >= l.cfg.Account.Threshold {
		delay := min(time.Duration(c.Failures-l.cfg.Account.Threshold+1)*l.cfg.Delay, l.cfg.MaxDelay)
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// Failure counts a failed attempt. It returns a *LockedError when this
// failure locked the (account, address) pair or the address.
func (l *Limiter) Failure(ctx context.Context, a Attempt) error {
	now := l.cfg.Now()
	var locked error
	count := func(key string, p policy.Lockout, lockable bool) error {
		return l.cfg.Store.UpdateAttemptCounter(ctx, key, func(c *storage.AttemptCounter) error {
			if !lockable {
				// The per-account total never locks: it only counts.
				if now.Sub(c.WindowStart) > p.Window || c.Failures == 0 {
					c.Failures, c.WindowStart = 0, now
				}
				c.Failures++
				c.ExpiresAt = now.Add(p.Window)
				return nil
			}
			if p.RecordFailure(c, now) {
				locked = &LockedError{Until: c.LockedUntil}
				l.cfg.Metrics.Lockout(lockName(key, a))
				l.cfg.Logger.WarnContext(ctx, "security event: lockout", "kind", a.Kind, "counter", lockName(key, a),
					"until", c.LockedUntil, "lockouts", c.Lockouts, "addr", a.Addr)
			}
			return nil
		})
	}
	if err := count(a.pairKey(), l.cfg.Account, true); err != nil {
		return fmt.Errorf("count failure: %w", err)
	}
	if err := count(a.addrKey(), l.cfg.Address, true); err != nil {
		return fmt.Errorf("count failure: %w", err)
	}
	if err := count(a.accountKey(), l.cfg.Account, false); err != nil {
		return fmt.Errorf("count failure: %w", err)
	}
	return locked
}

// lockName says which counter locked, without the account name (a username
// someone typed may be a password typed into the wrong field).
func lockName(key string, a Attempt) string {
	if key == a.addrKey() {
		return "address"
	}
	return "account+address"
}

// Success resets the (account, address) counter after a successful attempt.
func (l *Limiter) Success(ctx context.Context, a Attempt) error {
	if err := l.cfg.Store.DeleteAttemptCounters(ctx, a.pairKey()); err != nil {
		return fmt.Errorf("reset attempt counter: %w", err)
	}
	return nil
}

// Unlock lifts every lock of an account (password and second factor, every
// address). passwordAccount is the normalized username, mfaAccount the user
// id. It is a security event, logged by the caller.
func Unlock(ctx context.Context, store storage.AttemptCounters, passwordAccount, mfaAccount string) error {
	for _, a := range []Attempt{{Kind: KindPassword, Account: passwordAccount}, {Kind: KindSecondFactor, Account: mfaAccount}} {
		// "kind:account|" prefixes exactly this account's pair counters.
		if err := store.DeleteAttemptCountersByPrefix(ctx, a.pairKey()); err != nil {
			return fmt.Errorf("unlock: %w", err)
		}
		if err := store.DeleteAttemptCounters(ctx, a.accountKey()); err != nil {
			return fmt.Errorf("unlock: %w", err)
		}
	}
	return nil
}
