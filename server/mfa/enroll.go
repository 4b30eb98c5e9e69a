package mfa

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse/gatehouse/storage"
)

// Enrollment is a pending authenticator-app setup, as the enrollment page
// shows it.
type Enrollment struct {
	// Secret is the base32 secret, for manual entry.
	Secret string
	// URI is the otpauth://totp/... URI the QR code encodes.
	URI string
	// QRCode is a PNG of the URI, quiet zone included.
	QRCode    []byte
	ExpiresAt time.Time
}

// StartEnrollment returns the user's pending enrollment, creating one when
// there is none (or it expired). Reloading the page therefore shows the
// same secret until the enrollment expires. A pending enrollment never
// gates a login.
func (s *Service) StartEnrollment(ctx context.Context, user *storage.User) (*Enrollment, error) {
	enrolled, err := s.Enrolled(ctx, user.ID)
	if err != nil {
		return nil, err
	}
	if enrolled {
		return nil, ErrAlreadyEnrolled
	}
	secretB32, expires, err := s.pendingSecret(ctx, user.ID)
	if errors.Is(err, ErrNoEnrollment) {
		secretB32, expires, err = s.newEnrollment(ctx, user.ID)
	}
	if err != nil {
		return nil, err
	}
	uri, err := s.keyURI(user.Username, secretB32)
	if err != nil {
		return nil, err
	}
	png, err := qrPNG(uri)
	if err != nil {
		return nil, err
	}
	return &Enrollment{Secret: secretB32, URI: uri, QRCode: png, ExpiresAt: expires}, nil
}

// pendingSecret opens the user's unexpired pending enrollment, or returns
// ErrNoEnrollment.
func (s *Service) pendingSecret(ctx context.Context, userID string) (string, time.Time, error) {
	e, err := s.cfg.Store.FindTOTPEnrollment(ctx, userID)
	if errors.Is(err, storage.ErrNotFound) {
		return "", time.Time{}, ErrNoEnrollment
	}
	if err != nil {
		return "", time.Time{}, fmt.Errorf("load pending enrollment: %w", err)
	}
	if !s.now().Before(e.ExpiresAt) {
		return "", time.Time{}, ErrNoEnrollment
	}
	plain, err := s.cfg.Sealer.Open(e.SecretCiphertext, enrollmentAD(userID))
	if err != nil {
		// Sealed under a secret that is no longer configured: start over.
		return "", time.Time{}, ErrNoEnrollment
	}
	return string(plain), e.ExpiresAt, nil
}

func (s *Service) newEnrollment(ctx context.Context, userID string) (string, time.Time, error) {
	secretB32, err := newSecret()
	if err != nil {
		return "", time.Time{}, err
	}
	sealed, err := s.cfg.Sealer.Seal([]byte(secretB32), enrollmentAD(userID))
	if err != nil {
		return "", time.Time{}, fmt.Errorf("seal totp secret: %w", err)
	}
	now := s.now()
	e := &storage.TOTPEnrollment{UserID: userID, SecretCiphertext: sealed, CreatedAt: now, ExpiresAt: now.Add(s.cfg.EnrollmentLifetime)}
	if err := s.cfg.Store.SaveTOTPEnrollment(ctx, e); err != nil {
		return "", time.Time{}, fmt.Errorf("save pending enrollment: %w", err)
	}
	return secretB32, e.ExpiresAt, nil
}

// ConfirmEnrollment activates the pending enrollment when code is a current
// code of its secret; that code's time step counts as used. It returns the
// user's new recovery codes, to be shown once.
func (s *Service) ConfirmEnrollment(ctx context.Context, user *storage.User, code string) ([]string, error) {
	secretB32, _, err := s.pendingSecret(ctx, user.ID)
	if err != nil {
		return nil, err
	}
	c, ok := totpCode(code)
	if !ok {
		return nil, ErrInvalidCode
	}
	now := s.now()
	step, ok, err := matchStep(secretB32, c, now)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ErrInvalidCode
	}
	sealed, err := s.cfg.Sealer.Seal([]byte(secretB32), credentialAD(user.ID))
	if err != nil {
		return nil, fmt.Errorf("seal totp secret: %w", err)
	}
	records, shown, err := s.newRecoveryCodes(user.ID, now)
	if err != nil {
		return nil, err
	}
	err = s.cfg.Store.ActivateTOTP(ctx, &storage.TOTPCredential{UserID: user.ID, SecretCiphertext: sealed, LastStep: step, CreatedAt: now}, records)
	if errors.Is(err, storage.ErrAlreadyExists) {
		return nil, ErrAlreadyEnrolled
	}
	if err != nil {
		return nil, fmt.Errorf("activate authenticator app: %w", err)
	}
	return shown, nil
}
