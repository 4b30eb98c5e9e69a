package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ory/fosite"
	"gorm.io/gorm/clause"

	"github.com/gatehouse/gatehouse/storage"
)

func signingKeyToModel(k *storage.SigningKey) signingKeyModel {
	var retired *time.Time
	if k.RetiredAt != nil {
		retired = timePtr(*k.RetiredAt)
	}
	return signingKeyModel{
		KID:                  k.KID,
		Alg:                  k.Alg,
		PublicJWK:            k.PublicJWK,
		PrivateKeyCiphertext: k.PrivateKeyCiphertext,
		CreatedAt:            utc(k.CreatedAt),
		ActivateAt:           utc(k.ActivateAt),
		RetiredAt:            retired,
	}
}

func (m *signingKeyModel) record() *storage.SigningKey {
	var retired *time.Time
	if m.RetiredAt != nil {
		t := m.RetiredAt.UTC()
		retired = &t
	}
	return &storage.SigningKey{
		KID:                  m.KID,
		Alg:                  m.Alg,
		PublicJWK:            m.PublicJWK,
		PrivateKeyCiphertext: m.PrivateKeyCiphertext,
		CreatedAt:            m.CreatedAt.UTC(),
		ActivateAt:           m.ActivateAt.UTC(),
		RetiredAt:            retired,
	}
}

// CreateSigningKey stores a new key; CreatedAt defaults to now.
func (s *Store) CreateSigningKey(ctx context.Context, k *storage.SigningKey) error {
	if k.KID == "" {
		return errors.New("create signing key: empty kid")
	}
	m := signingKeyToModel(k)
	if m.CreatedAt.IsZero() {
		m.CreatedAt = utc(time.Now())
	}
	if err := s.conn(ctx).Create(&m).Error; err != nil {
		return classify(fmt.Sprintf("create signing key %q", k.KID), err)
	}
	k.CreatedAt = m.CreatedAt
	return nil
}

// ListSigningKeys returns every key, retired ones included, oldest first.
func (s *Store) ListSigningKeys(ctx context.Context) ([]*storage.SigningKey, error) {
	var ms []signingKeyModel
	if err := s.conn(ctx).Order("created_at, kid").Find(&ms).Error; err != nil {
		return nil, classify("list signing keys", err)
	}
	out := make([]*storage.SigningKey, len(ms))
	for i := range ms {
		out[i] = ms[i].record()
	}
	return out, nil
}

// UpdateSigningKey loads the key, applies fn and saves it in one
// transaction. fn may not change the kid.
func (s *Store) UpdateSigningKey(ctx context.Context, kid string, fn func(*storage.SigningKey) error) error {
	return s.inTx(ctx, func(ctx context.Context) error {
		op := fmt.Sprintf("update signing key %q", kid)
		var m signingKeyModel
		if err := s.forUpdate(s.conn(ctx)).Where("kid = ?", kid).Take(&m).Error; err != nil {
			return classify(op, err)
		}
		k := m.record()
		if err := fn(k); err != nil {
			return err
		}
		if k.KID != kid {
			return fmt.Errorf("%s: the kid cannot change", op)
		}
		next := signingKeyToModel(k)
		err := s.conn(ctx).Model(&signingKeyModel{}).Where("kid = ?", kid).Select("*").Updates(&next).Error
		return classify(op, err)
	})
}

// ClientAssertionJWTValid returns fosite.ErrJTIKnown when the jti of a
// private_key_jwt assertion was seen and has not expired.
func (s *Store) ClientAssertionJWTValid(ctx context.Context, jti string) error {
	var n int64
	err := s.conn(ctx).Model(&jtiModel{}).
		Where("jti_digest = ? AND expires_at > ?", digest(jti), utc(time.Now())).
		Count(&n).Error
	if err != nil {
		return classify("check client assertion jti", err)
	}
	if n > 0 {
		return fmt.Errorf("check client assertion jti: %w", fosite.ErrJTIKnown)
	}
	return nil
}

// SetClientAssertionJWT remembers a jti until exp, first dropping expired
// ones; a jti that is already known is fosite.ErrJTIKnown.
func (s *Store) SetClientAssertionJWT(ctx context.Context, jti string, exp time.Time) error {
	return s.inTx(ctx, func(ctx context.Context) error {
		db := s.conn(ctx)
		if err := db.Where("expires_at <= ?", utc(time.Now())).Delete(&jtiModel{}).Error; err != nil {
			return classify("store client assertion jti", err)
		}
		// DO NOTHING rather than a unique violation, which would abort a
		// PostgreSQL transaction the caller may have open.
		res := db.Clauses(clause.OnConflict{DoNothing: true}).
			Create(&jtiModel{JTIDigest: digest(jti), ExpiresAt: utc(exp)})
		if res.Error != nil {
			return classify("store client assertion jti", res.Error)
		}
		if res.RowsAffected == 0 {
			return fmt.Errorf("store client assertion jti: %w", fosite.ErrJTIKnown)
		}
		return nil
	})
}
