package storage

import (
	"context"
	"time"
)

// AttemptCounter counts failed attempts under one key (for example a
// username and a source address) for the lockout policy. Counters live in
// the database so that every instance sees the same counts.
type AttemptCounter struct {
	Key string
	// Failures counts the failures since WindowStart.
	Failures    int
	WindowStart time.Time
	// Lockouts counts the locks since the counter was last reset; each one
	// lasts longer.
	Lockouts    int
	LockedUntil time.Time
	// ExpiresAt is when the counter is forgotten (DeleteExpired).
	ExpiresAt time.Time
}

// AttemptCounters stores lockout counters.
type AttemptCounters interface {
	// FindAttemptCounters returns the existing counters among keys, by key.
	FindAttemptCounters(ctx context.Context, keys ...string) (map[string]*AttemptCounter, error)
	// UpdateAttemptCounter loads the counter (a zero counter when missing),
	// applies fn and saves it, in one transaction that serializes concurrent
	// callers.
	UpdateAttemptCounter(ctx context.Context, key string, fn func(*AttemptCounter) error) error
	// DeleteAttemptCounters deletes the counters with the given keys.
	DeleteAttemptCounters(ctx context.Context, keys ...string) error
	// DeleteAttemptCountersByPrefix deletes every counter whose key starts
	// with prefix (unlocking an account on every address).
	DeleteAttemptCountersByPrefix(ctx context.Context, prefix string) error
}

// SignInEvent is one successful sign-in, shown to the user as recent activity.
type SignInEvent struct {
	UserID    string
	At        time.Time
	Address   string
	UserAgent string
	// Methods are the authentication methods used (amr), e.g. ["pwd","otp"].
	Methods []string
}

// SignInEvents stores recent sign-ins.
type SignInEvents interface {
	RecordSignIn(ctx context.Context, e *SignInEvent) error
	// ListSignIns returns the user's most recent sign-ins, newest first.
	ListSignIns(ctx context.Context, userID string, limit int) ([]*SignInEvent, error)
}
