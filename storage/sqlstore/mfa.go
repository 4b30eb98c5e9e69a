package sqlstore

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm/clause"

	"github.com/gatehouse/gatehouse/storage"
)

// User ids stay out of the error texts below on purpose: these rows are
// about a user's credentials, and the callers add the context they need.

type totpEnrollmentModel struct {
	UserID           string    `gorm:"column:user_id;primaryKey"`
	SecretCiphertext []byte    `gorm:"column:secret_ciphertext"`
	CreatedAt        time.Time `gorm:"column:created_at;autoCreateTime:false"`
	ExpiresAt        time.Time `gorm:"column:expires_at"`
}

func (totpEnrollmentModel) TableName() string { return "totp_enrollments" }

type totpCredentialModel struct {
	UserID           string    `gorm:"column:user_id;primaryKey"`
	SecretCiphertext []byte    `gorm:"column:secret_ciphertext"`
	LastStep         int64     `gorm:"column:last_step"`
	CreatedAt        time.Time `gorm:"column:created_at;autoCreateTime:false"`
}

func (totpCredentialModel) TableName() string { return "totp_credentials" }

type recoveryCodeModel struct {
	ID        string     `gorm:"column:id;primaryKey"`
	UserID    string     `gorm:"column:user_id"`
	Digest    []byte     `gorm:"column:digest"`
	CreatedAt time.Time  `gorm:"column:created_at;autoCreateTime:false"`
	UsedAt    *time.Time `gorm:"column:used_at"`
}

func (recoveryCodeModel) TableName() string { return "recovery_codes" }

// SaveTOTPEnrollment creates or replaces the user's pending enrollment.
func (s *Store) SaveTOTPEnrollment(ctx context.Context, e *storage.TOTPEnrollment) error {
	if e.UserID == "" || len(e.SecretCiphertext) == 0 {
		return errors.New("save totp enrollment: empty user id or secret")
	}
	m := totpEnrollmentModel{UserID: e.UserID, SecretCiphertext: e.SecretCiphertext, CreatedAt: utc(e.CreatedAt), ExpiresAt: utc(e.ExpiresAt)}
	if m.CreatedAt.IsZero() {
		m.CreatedAt = utc(time.Now())
	}
	err := s.conn(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "user_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"secret_ciphertext", "created_at", "expires_at"}),
	}).Create(&m).Error
	if err != nil {
		return classify("save totp enrollment", err)
	}
	e.CreatedAt = m.CreatedAt
	return nil
}

// FindTOTPEnrollment returns the pending enrollment unless it is unknown or expired.
func (s *Store) FindTOTPEnrollment(ctx context.Context, userID string) (*storage.TOTPEnrollment, error) {
	var m totpEnrollmentModel
	err := s.conn(ctx).Where("user_id = ? AND expires_at > ?", userID, utc(time.Now())).Take(&m).Error
	if err != nil {
		return nil, classify("find totp enrollment", err)
	}
	return &storage.TOTPEnrollment{UserID: m.UserID, SecretCiphertext: m.SecretCiphertext, CreatedAt: m.CreatedAt.UTC(), ExpiresAt: m.ExpiresAt.UTC()}, nil
}

// ActivateTOTP replaces the pending enrollment by the active credential and
// its recovery codes, in one transaction.
func (s *Store) ActivateTOTP(ctx context.Context, c *storage.TOTPCredential, codes []*storage.RecoveryCode) error {
	if c.UserID == "" || len(c.SecretCiphertext) == 0 {
		return errors.New("activate totp: empty user id or secret")
	}
	return s.inTx(ctx, func(ctx context.Context) error {
		db := s.conn(ctx)
		if err := db.Where("user_id = ?", c.UserID).Delete(&totpEnrollmentModel{}).Error; err != nil {
			return classify("activate totp: delete enrollment", err)
		}
		m := totpCredentialModel{UserID: c.UserID, SecretCiphertext: c.SecretCiphertext, LastStep: c.LastStep, CreatedAt: utc(c.CreatedAt)}
		if m.CreatedAt.IsZero() {
			m.CreatedAt = utc(time.Now())
		}
		if err := db.Create(&m).Error; err != nil {
			return classify("activate totp", err)
		}
		c.CreatedAt = m.CreatedAt
		return s.replaceRecoveryCodes(ctx, c.UserID, codes)
	})
}

// FindTOTPCredential returns the user's active credential.
func (s *Store) FindTOTPCredential(ctx context.Context, userID string) (*storage.TOTPCredential, error) {
	var m totpCredentialModel
	if err := s.conn(ctx).Where("user_id = ?", userID).Take(&m).Error; err != nil {
		return nil, classify("find totp credential", err)
	}
	return &storage.TOTPCredential{UserID: m.UserID, SecretCiphertext: m.SecretCiphertext, LastStep: m.LastStep, CreatedAt: m.CreatedAt.UTC()}, nil
}

// AcceptTOTPStep burns step with one conditional update: of two requests
// presenting the same code, on one instance or several, exactly one changes
// the row.
func (s *Store) AcceptTOTPStep(ctx context.Context, userID string, step int64) (bool, error) {
	res := s.conn(ctx).Model(&totpCredentialModel{}).
		Where("user_id = ? AND last_step < ?", userID, step).
		Update("last_step", step)
	if res.Error != nil {
		return false, classify("accept totp step", res.Error)
	}
	return res.RowsAffected == 1, nil
}

// ListRecoveryCodes returns the user's codes, oldest first.
func (s *Store) ListRecoveryCodes(ctx context.Context, userID string) ([]*storage.RecoveryCode, error) {
	var ms []recoveryCodeModel
	if err := s.conn(ctx).Where("user_id = ?", userID).Order("created_at, id").Find(&ms).Error; err != nil {
		return nil, classify("list recovery codes", err)
	}
	out := make([]*storage.RecoveryCode, len(ms))
	for i, m := range ms {
		out[i] = &storage.RecoveryCode{ID: m.ID, UserID: m.UserID, Digest: m.Digest, CreatedAt: m.CreatedAt.UTC(), UsedAt: timeOf(m.UsedAt)}
	}
	return out, nil
}

// UseRecoveryCode marks an unused code used with one conditional update, so
// that a code works once even when sent twice at the same moment.
func (s *Store) UseRecoveryCode(ctx context.Context, userID, id string, at time.Time) (bool, error) {
	res := s.conn(ctx).Model(&recoveryCodeModel{}).
		Where("id = ? AND user_id = ? AND used_at IS NULL", id, userID).
		Update("used_at", utc(at))
	if res.Error != nil {
		return false, classify("use recovery code", res.Error)
	}
	return res.RowsAffected == 1, nil
}

// ReplaceRecoveryCodes swaps the user's codes for codes in one transaction.
func (s *Store) ReplaceRecoveryCodes(ctx context.Context, userID string, codes []*storage.RecoveryCode) error {
	return s.inTx(ctx, func(ctx context.Context) error { return s.replaceRecoveryCodes(ctx, userID, codes) })
}

func (s *Store) replaceRecoveryCodes(ctx context.Context, userID string, codes []*storage.RecoveryCode) error {
	db := s.conn(ctx)
	if err := db.Where("user_id = ?", userID).Delete(&recoveryCodeModel{}).Error; err != nil {
		return classify("replace recovery codes", err)
	}
	if len(codes) == 0 {
		return nil
	}
	ms := make([]recoveryCodeModel, len(codes))
	for i, c := range codes {
		if c.ID == "" || len(c.Digest) == 0 || c.UserID != userID {
			return errors.New("replace recovery codes: a code lacks its id or digest, or belongs to another user")
		}
		ms[i] = recoveryCodeModel{ID: c.ID, UserID: userID, Digest: c.Digest, CreatedAt: utc(c.CreatedAt), UsedAt: timePtr(c.UsedAt)}
		if ms[i].CreatedAt.IsZero() {
			ms[i].CreatedAt = utc(time.Now())
		}
	}
	if err := db.Create(&ms).Error; err != nil {
		return classify("replace recovery codes", err)
	}
	return nil
}

// DeleteSecondFactor removes everything of the user's second factor.
func (s *Store) DeleteSecondFactor(ctx context.Context, userID string) (bool, error) {
	var removed bool
	err := s.inTx(ctx, func(ctx context.Context) error {
		db := s.conn(ctx)
		res := db.Where("user_id = ?", userID).Delete(&totpCredentialModel{})
		if res.Error != nil {
			return classify("delete totp credential", res.Error)
		}
		removed = res.RowsAffected > 0
		for _, m := range []any{&totpEnrollmentModel{}, &recoveryCodeModel{}} {
			if err := db.Where("user_id = ?", userID).Delete(m).Error; err != nil {
				return classify("delete second factor", err)
			}
		}
		return nil
	})
	return removed, err
}
