package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse/gatehouse/storage"
)

func userToModel(u *storage.User) userModel {
	return userModel{
		ID:                 u.ID,
		Username:           u.Username,
		UsernameNormalized: storage.NormalizeIdentifier(u.Username),
		Email:              u.Email,
		EmailNormalized:    storage.NormalizeIdentifier(u.Email),
		EmailVerified:      u.EmailVerified,
		DisplayName:        u.DisplayName,
		PasswordHash:       u.PasswordHash,
		Disabled:           u.Disabled,
		RequireMFA:         u.RequireMFA,
		CreatedAt:          utc(u.CreatedAt),
		UpdatedAt:          utc(u.UpdatedAt),
	}
}

func (m *userModel) record() *storage.User {
	return &storage.User{
		ID:            m.ID,
		Username:      m.Username,
		Email:         m.Email,
		EmailVerified: m.EmailVerified,
		DisplayName:   m.DisplayName,
		PasswordHash:  m.PasswordHash,
		Disabled:      m.Disabled,
		RequireMFA:    m.RequireMFA,
		CreatedAt:     m.CreatedAt.UTC(),
		UpdatedAt:     m.UpdatedAt.UTC(),
	}
}

// CreateUser stores a new user; ErrAlreadyExists when the id, the normalized
// username or the normalized (non-empty) email is taken.
func (s *Store) CreateUser(ctx context.Context, u *storage.User) error {
	if u.ID == "" || storage.NormalizeIdentifier(u.Username) == "" {
		return errors.New("create user: empty id or username")
	}
	m := userToModel(u)
	if m.CreatedAt.IsZero() {
		m.CreatedAt = utc(time.Now())
	}
	if m.UpdatedAt.IsZero() {
		m.UpdatedAt = m.CreatedAt
	}
	if err := s.conn(ctx).Create(&m).Error; err != nil {
		return classify("create user", err)
	}
	u.CreatedAt, u.UpdatedAt = m.CreatedAt, m.UpdatedAt
	return nil
}

// FindUser returns the user with this id (the OpenID Connect subject).
func (s *Store) FindUser(ctx context.Context, id string) (*storage.User, error) {
	return s.findUserWithRoles(ctx, id)
}

// FindUserByUsername looks the user up by the normalized username.
func (s *Store) FindUserByUsername(ctx context.Context, username string) (*storage.User, error) {
	var m userModel
	err := s.conn(ctx).Where("username_normalized = ?", storage.NormalizeIdentifier(username)).Take(&m).Error
	if err != nil {
		// The username stays out of the error: it may be a mistyped password.
		return nil, classify("find user by username", err)
	}
	return m.record(), nil
}

// ListUsers returns every user ordered by normalized username.
func (s *Store) ListUsers(ctx context.Context) ([]*storage.User, error) {
	var ms []userModel
	if err := s.conn(ctx).Order("username_normalized").Find(&ms).Error; err != nil {
		return nil, classify("list users", err)
	}
	out := make([]*storage.User, len(ms))
	for i := range ms {
		out[i] = ms[i].record()
	}
	return out, nil
}

// UpdateUser loads the user, applies fn and saves it in one transaction;
// UpdatedAt is set to now. fn may not change the id.
func (s *Store) UpdateUser(ctx context.Context, id string, fn func(*storage.User) error) error {
	return s.inTx(ctx, func(ctx context.Context) error {
		var m userModel
		if err := s.forUpdate(s.conn(ctx)).Where("id = ?", id).Take(&m).Error; err != nil {
			return classify(fmt.Sprintf("update user %q", id), err)
		}
		u := m.record()
		if err := fn(u); err != nil {
			return err
		}
		if u.ID != id {
			return fmt.Errorf("update user %q: the id cannot change", id)
		}
		if storage.NormalizeIdentifier(u.Username) == "" {
			return fmt.Errorf("update user %q: empty username", id)
		}
		u.UpdatedAt = time.Now()
		next := userToModel(u)
		if err := s.conn(ctx).Model(&userModel{}).Where("id = ?", id).Select("*").Updates(&next).Error; err != nil {
			return classify(fmt.Sprintf("update user %q", id), err)
		}
		return nil
	})
}

// DeleteUser deletes the user with every fosite record issued to them (by
// subject); the schema's cascades remove their browser sessions, consents and
// pending authorization requests.
func (s *Store) DeleteUser(ctx context.Context, id string) error {
	return s.inTx(ctx, func(ctx context.Context) error {
		op := fmt.Sprintf("delete user %q", id)
		db := s.conn(ctx)
		for _, table := range requestTables {
			if err := db.Table(table).Where("subject = ?", id).Delete(&requestModel{}).Error; err != nil {
				return classify(op, err)
			}
		}
		res := db.Where("id = ?", id).Delete(&userModel{})
		if res.Error != nil {
			return classify(op, res.Error)
		}
		if res.RowsAffected == 0 {
			return notFound(op)
		}
		return nil
	})
}
