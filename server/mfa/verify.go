package mfa

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse/gatehouse/storage"
)

// Verify checks a second factor: a six-digit code from the user's
// authenticator app or one of their recovery codes. Every attempt counts
// toward the lockout until it succeeds; a locked second factor answers
// *LockedError without looking at input.
func (s *Service) Verify(ctx context.Context, userID, input string) (Method, error) {
	cred, err := s.cfg.Store.FindTOTPCredential(ctx, userID)
	if errors.Is(err, storage.ErrNotFound) {
		return "", ErrNotEnrolled
	}
	if err != nil {
		return "", fmt.Errorf("load second factor: %w", err)
	}
	// Counting before checking bounds the guesses of concurrent requests
	// too: once the threshold is reached, later attempts are refused.
	if err := s.countAttempt(ctx, userID); err != nil {
		return "", err
	}
	method, err := s.check(ctx, cred, input)
	if err != nil {
		return "", err
	}
	// A success forgets the failures, and the growth of the lock. The
	// counter is zeroed rather than deleted: a concurrent attempt may be
	// between creating the row and locking it.
	err = s.cfg.Store.UpdateAttemptCounter(ctx, LockoutKey(userID), func(c *storage.AttemptCounter) error {
		c.Failures, c.Lockouts, c.LockedUntil = 0, 0, time.Time{}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("reset second-factor attempts: %w", err)
	}
	return method, nil
}

func (s *Service) check(ctx context.Context, cred *storage.TOTPCredential, input string) (Method, error) {
	if code, ok := totpCode(input); ok {
		secretB32, err := s.cfg.Sealer.Open(cred.SecretCiphertext, credentialAD(cred.UserID))
		if err != nil {
			return "", fmt.Errorf("open totp secret: %w", err)
		}
		step, ok, err := matchStep(string(secretB32), code, s.now())
		if err != nil {
			return "", err
		}
		if !ok {
			return "", ErrInvalidCode
		}
		accepted, err := s.cfg.Store.AcceptTOTPStep(ctx, cred.UserID, step)
		if err != nil {
			return "", fmt.Errorf("accept totp step: %w", err)
		}
		if !accepted {
			return "", ErrCodeUsed
		}
		return MethodTOTP, nil
	}
	if code, ok := normalizeRecoveryCode(input); ok {
		if err := s.useRecoveryCode(ctx, cred.UserID, code); err != nil {
			return "", err
		}
		return MethodRecoveryCode, nil
	}
	return "", ErrInvalidCode
}

// countAttempt counts one attempt as a failure until it succeeds, or
// returns *LockedError while locked. The attempt that reaches the threshold
// sets the lock for the next ones, and is itself still checked.
func (s *Service) countAttempt(ctx context.Context, userID string) error {
	var locked time.Time
	err := s.cfg.Store.UpdateAttemptCounter(ctx, LockoutKey(userID), func(c *storage.AttemptCounter) error {
		now := s.now()
		if until, ok := s.cfg.Lockout.Locked(c, now); ok {
			locked = until
			return nil
		}
		if s.cfg.Lockout.RecordFailure(c, now) {
			s.cfg.Logger.WarnContext(ctx, "security event: lockout", "kind", "mfa", "user_id", userID,
				"until", c.LockedUntil, "lockouts", c.Lockouts)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("count second-factor attempt: %w", err)
	}
	if !locked.IsZero() {
		return &LockedError{Until: locked}
	}
	return nil
}
