package sqlstore

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse/gatehouse/storage"
)

// mailTokenModel mirrors migrations/*/00004_recovery.sql. Digests and
// addresses stay out of error texts: the one is a credential's digest, the
// other personal data.
type mailTokenModel struct {
	ID              int64      `gorm:"column:id;primaryKey;autoIncrement"`
	Digest          nullBytes  `gorm:"column:digest"`
	Purpose         string     `gorm:"column:purpose"`
	UserID          string     `gorm:"column:user_id"`
	Email           string     `gorm:"column:email"`
	EmailNormalized string     `gorm:"column:email_normalized"`
	CreatedAt       time.Time  `gorm:"column:created_at;autoCreateTime:false"`
	ExpiresAt       time.Time  `gorm:"column:expires_at"`
	UsedAt          *time.Time `gorm:"column:used_at"`
}

func (mailTokenModel) TableName() string { return "mail_tokens" }

// nullBytes writes an empty value as NULL, which unique indexes never
// compare (a nil []byte would be an empty BLOB in SQLite, and clash).
type nullBytes []byte

func (b nullBytes) Value() (driver.Value, error) {
	if len(b) == 0 {
		return nil, nil
	}
	return []byte(b), nil
}

func (b *nullBytes) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*b = nil
	case []byte:
		*b = append(nullBytes(nil), v...)
	default:
		return fmt.Errorf("scan digest: unexpected %T", src)
	}
	return nil
}

func (m *mailTokenModel) record() *storage.MailToken {
	return &storage.MailToken{
		Digest:    []byte(m.Digest),
		Purpose:   m.Purpose,
		UserID:    m.UserID,
		Email:     m.Email,
		CreatedAt: m.CreatedAt.UTC(),
		ExpiresAt: m.ExpiresAt.UTC(),
		UsedAt:    timeOf(m.UsedAt),
	}
}

// mailTokenRetention is how long a mail's row outlives its expiry: long
// enough to tell a used or expired link from an unknown one, and to cover
// the rate-limit window.
const mailTokenRetention = 24 * time.Hour

// FindUsersByEmail returns the accounts with this normalized address,
// verified first, then newest first.
func (s *Store) FindUsersByEmail(ctx context.Context, email string) ([]*storage.User, error) {
	norm := storage.NormalizeIdentifier(email)
	if norm == "" {
		return nil, nil
	}
	var ms []userModel
	err := s.conn(ctx).Where("email_normalized = ?", norm).
		Order("email_verified DESC, created_at DESC, id").Find(&ms).Error
	if err != nil {
		return nil, classify("find users by email", err)
	}
	out := make([]*storage.User, len(ms))
	for i := range ms {
		out[i] = ms[i].record()
	}
	return out, nil
}

// CreateMailToken records a mail and the digest of its link.
func (s *Store) CreateMailToken(ctx context.Context, t *storage.MailToken) error {
	if t.Purpose == "" || t.UserID == "" || t.Email == "" || t.ExpiresAt.IsZero() {
		return errors.New("create mail token: empty purpose, user id, email or expiry")
	}
	m := mailTokenModel{
		Digest:          t.Digest,
		Purpose:         t.Purpose,
		UserID:          t.UserID,
		Email:           t.Email,
		EmailNormalized: storage.NormalizeIdentifier(t.Email),
		CreatedAt:       utc(t.CreatedAt),
		ExpiresAt:       utc(t.ExpiresAt),
		UsedAt:          timePtr(t.UsedAt),
	}
	if m.CreatedAt.IsZero() {
		m.CreatedAt = utc(time.Now())
	}
	if err := s.conn(ctx).Create(&m).Error; err != nil {
		return classify(fmt.Sprintf("create %s mail token", t.Purpose), err)
	}
	t.CreatedAt = m.CreatedAt
	return nil
}

// FindMailToken returns the token of purpose stored under one of digests.
func (s *Store) FindMailToken(ctx context.Context, purpose string, digests [][]byte) (*storage.MailToken, error) {
	op := fmt.Sprintf("find %s mail token", purpose)
	if len(digests) == 0 {
		return nil, notFound(op)
	}
	var m mailTokenModel
	err := s.conn(ctx).Where("purpose = ? AND digest IN ?", purpose, digests).Take(&m).Error
	if err != nil {
		return nil, classify(op, err)
	}
	return m.record(), nil
}

// UseMailToken marks an unused, unexpired token used: a conditional update,
// so that of concurrent callers exactly one changes the row.
func (s *Store) UseMailToken(ctx context.Context, digest []byte, now time.Time) error {
	const op = "use mail token"
	if len(digest) == 0 {
		return notFound(op)
	}
	at := utc(now)
	res := s.conn(ctx).Model(&mailTokenModel{}).
		Where("digest = ? AND used_at IS NULL AND expires_at > ?", digest, at).
		Update("used_at", at)
	if res.Error != nil {
		return classify(op, res.Error)
	}
	if res.RowsAffected == 1 {
		return nil
	}
	var n int64
	if err := s.conn(ctx).Model(&mailTokenModel{}).Where("digest = ?", digest).Count(&n).Error; err != nil {
		return classify(op, err)
	}
	if n == 0 {
		return notFound(op)
	}
	return fmt.Errorf("%s: used or expired: %w", op, storage.ErrConflict)
}

// UseUserMailTokens marks every unused token of the user and purpose used.
func (s *Store) UseUserMailTokens(ctx context.Context, userID, purpose string, now time.Time) error {
	err := s.conn(ctx).Model(&mailTokenModel{}).
		Where("user_id = ? AND purpose = ? AND used_at IS NULL", userID, purpose).
		Update("used_at", utc(now)).Error
	return classify(fmt.Sprintf("use %s mail tokens of user %q", purpose, userID), err)
}

// CountMailsSince counts the mails recorded for the address after since.
func (s *Store) CountMailsSince(ctx context.Context, email string, since time.Time) (int, error) {
	var n int64
	err := s.conn(ctx).Model(&mailTokenModel{}).
		Where("email_normalized = ? AND created_at > ?", storage.NormalizeIdentifier(email), utc(since)).
		Count(&n).Error
	if err != nil {
		return 0, classify("count mails to address", err)
	}
	return int(n), nil
}
