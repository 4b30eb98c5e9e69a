package mfa

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/gatehouse/gatehouse/server/policy"
	"github.com/gatehouse/gatehouse/server/secret"
	"github.com/gatehouse/gatehouse/storage"
)

// Errors of the second factor; their texts are safe to log.
var (
	// ErrInvalidCode: the code or recovery code is wrong.
	ErrInvalidCode = errors.New("mfa: incorrect code")
	// ErrCodeUsed: the code's time step was already accepted (a replay, or
	// the same code sent twice).
	ErrCodeUsed = errors.New("mfa: code already used")
	// ErrNotEnrolled: the user has no authenticator app.
	ErrNotEnrolled = errors.New("mfa: no authenticator app enrolled")
	// ErrAlreadyEnrolled: the user has an authenticator app already.
	ErrAlreadyEnrolled = errors.New("mfa: an authenticator app is already enrolled")
	// ErrNoEnrollment: there is no pending enrollment (never started, or expired).
	ErrNoEnrollment = errors.New("mfa: no pending enrollment")
)

// LockedError means the second factor is locked after too many failed
// attempts; no code is checked until Until.
type LockedError struct{ Until time.Time }

func (e *LockedError) Error() string {
	return "mfa: second factor locked until " + e.Until.UTC().Format(time.RFC3339)
}

// Method is how a second factor was proven.
type Method string

// The second-factor methods.
const (
	MethodTOTP         Method = "totp"
	MethodRecoveryCode Method = "recovery_code"
)

// Store is what the second factor keeps in the database: credentials and
// recovery codes, and its lockout counter.
type Store interface {
	storage.SecondFactors
	storage.AttemptCounters
}

// LockoutKey is the attempt counter of a user's second factor. It is the
// per-account key of the sign-in limiter's "mfa" kind, so that `gatehouse
// users unlock` (throttle.Unlock) lifts it.
func LockoutKey(userID string) string { return "mfa:" + userID }

// Config wires a Service.
type Config struct {
	Store Store
	// Sealer encrypts TOTP secrets at rest (secret.PurposeAtRest).
	Sealer *secret.AEAD
	// Digester digests recovery codes (secret.PurposeRecoveryCode).
	Digester *secret.Digester
	// Issuer names the account in authenticator apps; default "Gatehouse".
	Issuer string
	// Lockout is the lockout policy, the one of password sign-ins; the zero
	// value means policy.DefaultLockout. The second factor locks per
	// account, not per (account, address): only someone who knows the
	// password reaches it, so a stranger cannot lock the owner out, while
	// per-address counting would let the holder of a stolen password spread
	// guesses over many addresses.
	Lockout policy.Lockout
	// EnrollmentLifetime bounds a pending enrollment; default 10 minutes.
	EnrollmentLifetime time.Duration
	// Now is the clock of codes, enrollments and the lockout; nil means time.Now.
	Now func() time.Time
	// Logger receives the lockout security events; nil discards them.
	Logger *slog.Logger
}

// Service enrolls and verifies second factors.
type Service struct {
	cfg Config
}

// New returns a Service for cfg.
func New(cfg Config) *Service {
	if cfg.Issuer == "" {
		cfg.Issuer = "Gatehouse"
	}
	if !cfg.Lockout.Valid() {
		cfg.Lockout = policy.DefaultLockout()
	}
	if cfg.EnrollmentLifetime <= 0 {
		cfg.EnrollmentLifetime = 10 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{cfg: cfg}
}

func (s *Service) now() time.Time { return s.cfg.Now().UTC() }

// Status is what the account page shows about a user's second factor.
type Status struct {
	Enrolled bool
	// Since is when the authenticator app was enrolled.
	Since time.Time
	// RecoveryCodesLeft counts the unused recovery codes.
	RecoveryCodesLeft int
}

// Enrolled reports whether the user has an active authenticator app.
func (s *Service) Enrolled(ctx context.Context, userID string) (bool, error) {
	_, err := s.cfg.Store.FindTOTPCredential(ctx, userID)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, storage.ErrNotFound):
		return false, nil
	default:
		return false, fmt.Errorf("load second factor: %w", err)
	}
}

// Status returns the state of the user's second factor.
func (s *Service) Status(ctx context.Context, userID string) (Status, error) {
	c, err := s.cfg.Store.FindTOTPCredential(ctx, userID)
	if errors.Is(err, storage.ErrNotFound) {
		return Status{}, nil
	}
	if err != nil {
		return Status{}, fmt.Errorf("load second factor: %w", err)
	}
	codes, err := s.cfg.Store.ListRecoveryCodes(ctx, userID)
	if err != nil {
		return Status{}, fmt.Errorf("load recovery codes: %w", err)
	}
	st := Status{Enrolled: true, Since: c.CreatedAt}
	for _, rc := range codes {
		if rc.UsedAt.IsZero() {
			st.RecoveryCodesLeft++
		}
	}
	return st, nil
}

// Disable removes the user's authenticator app, recovery codes and pending
// enrollment. The caller checks the password and a code first.
func (s *Service) Disable(ctx context.Context, userID string) error {
	removed, err := s.cfg.Store.DeleteSecondFactor(ctx, userID)
	if err != nil {
		return fmt.Errorf("disable second factor: %w", err)
	}
	if !removed {
		return ErrNotEnrolled
	}
	return nil
}
