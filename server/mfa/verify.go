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
	if err := s.cfg.Store.UpdateSecondFactorAttempts(ctx, userID, func(a *storage.SecondFactorAttempts) error {
		*a = storage.SecondFactorAttempts{UserID: a.UserID}
		return nil
	}); err != nil {
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

// countAttempt counts one attempt, or returns *LockedError while locked.
// The attempt that reaches the threshold sets the lock for the next ones.
func (s *Service) countAttempt(ctx context.Context, userID string) error {
	lo := s.cfg.Lockout
	var locked time.Time
	err := s.cfg.Store.UpdateSecondFactorAttempts(ctx, userID, func(a *storage.SecondFactorAttempts) error {
		now := s.now()
		if now.Before(a.LockedUntil) {
			locked = a.LockedUntil
			return nil
		}
		if a.WindowStart.IsZero() || now.Sub(a.WindowStart) >= lo.Window {
			a.WindowStart, a.Attempts = now, 0
		}
		a.Attempts++
		if a.Attempts >= lo.Threshold {
			a.LockedUntil = now.Add(lo.Durations[min(a.Lockouts, len(lo.Durations)-1)])
			a.Lockouts++
			a.Attempts, a.WindowStart = 0, time.Time{}
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
