package storage

import (
	"context"
	"time"
)

// TOTPEnrollment is an authenticator-app setup the user started but has not
// confirmed with a code yet. It never gates a login, and it expires.
type TOTPEnrollment struct {
	UserID string
	// SecretCiphertext is the TOTP secret sealed with the at-rest AEAD,
	// bound to (totp_enrollments, secret, UserID).
	SecretCiphertext []byte
	CreatedAt        time.Time
	ExpiresAt        time.Time
}

// TOTPCredential is a user's active authenticator app.
type TOTPCredential struct {
	UserID string
	// SecretCiphertext is the TOTP secret sealed with the at-rest AEAD,
	// bound to (totp_credentials, secret, UserID).
	SecretCiphertext []byte
	// LastStep is the last accepted time step (Unix time / 30 s): a code is
	// accepted only for a later step, so no code works twice.
	LastStep  int64
	CreatedAt time.Time
}

// RecoveryCode is one single-use recovery code, stored only as a keyed digest.
type RecoveryCode struct {
	ID     string
	UserID string
	Digest []byte
	// UsedAt is zero while the code is unused.
	UsedAt    time.Time
	CreatedAt time.Time
}

// SecondFactors stores authenticator apps and recovery codes. The
// second-factor lockout counts in AttemptCounters.
type SecondFactors interface {
	// SaveTOTPEnrollment creates or replaces the user's pending enrollment.
	SaveTOTPEnrollment(ctx context.Context, e *TOTPEnrollment) error
	// FindTOTPEnrollment returns ErrNotFound when none is pending or it expired.
	FindTOTPEnrollment(ctx context.Context, userID string) (*TOTPEnrollment, error)
	// ActivateTOTP, in one transaction, deletes the user's pending
	// enrollment, stores c (ErrAlreadyExists when the user already has a
	// credential) and replaces the user's recovery codes with codes.
	ActivateTOTP(ctx context.Context, c *TOTPCredential, codes []*RecoveryCode) error
	// FindTOTPCredential returns the user's active credential or ErrNotFound.
	FindTOTPCredential(ctx context.Context, userID string) (*TOTPCredential, error)
	// AcceptTOTPStep records step as used if it is later than the last
	// accepted one, with one conditional update; false means it is not (a
	// replay, or a concurrent request that won) or there is no credential.
	AcceptTOTPStep(ctx context.Context, userID string, step int64) (bool, error)
	// ListRecoveryCodes returns the user's recovery codes, used ones
	// included, oldest first.
	ListRecoveryCodes(ctx context.Context, userID string) ([]*RecoveryCode, error)
	// UseRecoveryCode marks an unused code used, with one conditional
	// update; false means it was used already or does not exist.
	UseRecoveryCode(ctx context.Context, userID, id string, at time.Time) (bool, error)
	// ReplaceRecoveryCodes deletes the user's codes and stores codes, in one
	// transaction.
	ReplaceRecoveryCodes(ctx context.Context, userID string, codes []*RecoveryCode) error
	// DeleteSecondFactor removes the user's credential, pending enrollment
	// and recovery codes; false when there was no credential.
	DeleteSecondFactor(ctx context.Context, userID string) (bool, error)
}
