package recovery

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/gatehouse/gatehouse/server/credential"
	"github.com/gatehouse/gatehouse/server/manage"
	"github.com/gatehouse/gatehouse/storage"
)

// Link is a usable link from a mail, for the page that shows its form.
type Link struct {
	Purpose string
	User    *storage.User
	// Email is the address the link was sent to (for verification: the
	// address it verifies).
	Email string
	// Token is the raw token, to be carried by the page's form.
	Token  string
	digest []byte
}

// CheckLink returns the link of purpose for token if it can still be used;
// otherwise ErrInvalidLink. It does not use the link up: mail scanners
// follow links, so only the POST of the page's form may.
func (s *Service) CheckLink(ctx context.Context, purpose, token string) (*Link, error) {
	if raw, err := base64.RawURLEncoding.DecodeString(token); err != nil || len(raw) != tokenBytes {
		return nil, ErrInvalidLink
	}
	t, err := s.cfg.Store.FindMailToken(ctx, purpose, s.cfg.Tokens.Candidates([]byte(token)))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, ErrInvalidLink
	}
	if err != nil {
		return nil, fmt.Errorf("load %s link: %w", purpose, err)
	}
	if !t.UsedAt.IsZero() || !s.now().Before(t.ExpiresAt) {
		return nil, ErrInvalidLink
	}
	u, err := s.cfg.Store.FindUser(ctx, t.UserID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, ErrInvalidLink
	}
	if err != nil {
		return nil, fmt.Errorf("load account of %s link: %w", purpose, err)
	}
	if u.Disabled {
		return nil, ErrInvalidLink
	}
	return &Link{Purpose: purpose, User: u, Email: t.Email, Token: token, digest: t.Digest}, nil
}

// Verify uses a verification link: the address it was sent to becomes the
// account's verified address. ErrEmailTaken when another account verified
// that address first (the link then stays unused).
func (s *Service) Verify(ctx context.Context, token string) (*storage.User, error) {
	link, err := s.CheckLink(ctx, storage.MailVerifyEmail, token)
	if err != nil {
		return nil, err
	}
	var user *storage.User
	err = storage.InTx(ctx, s.cfg.Store, func(ctx context.Context) error {
		if err := s.use(ctx, link); err != nil {
			return err
		}
		return s.cfg.Store.UpdateUser(ctx, link.User.ID, func(u *storage.User) error {
			u.Email, u.EmailVerified = link.Email, true
			user = u
			return nil
		})
	})
	switch {
	case errors.Is(err, storage.ErrAlreadyExists):
		return nil, ErrEmailTaken
	case errors.Is(err, storage.ErrNotFound):
		return nil, ErrInvalidLink
	case err != nil:
		return nil, err
	}
	s.cfg.Logger.InfoContext(ctx, "email address verified", "user_id", user.ID)
	return user, nil
}

// Reset uses a reset link to set a new password. The account is then
// signed out everywhere (browser sessions end, with back-channel logout, and
// every token issued to it is revoked) and its other reset links die. A
// password the policy refuses is a *manage.ValidationError and leaves the
// link unused.
func (s *Service) Reset(ctx context.Context, token, password string) (*storage.User, error) {
	link, err := s.CheckLink(ctx, storage.MailResetPassword, token)
	if err != nil {
		return nil, err
	}
	if err := credential.ValidatePassword(password); err != nil {
		return nil, &manage.ValidationError{Field: "password", Message: err.Error()}
	}
	// Hash before the transaction: it takes tens of milliseconds.
	hash, err := s.cfg.Passwords.Hash(ctx, password)
	if err != nil {
		return nil, fmt.Errorf("hash new password: %w", err)
	}
	err = storage.InTx(ctx, s.cfg.Store, func(ctx context.Context) error {
		if err := s.use(ctx, link); err != nil {
			return err
		}
		err := s.cfg.Store.UpdateUser(ctx, link.User.ID, func(u *storage.User) error {
			u.PasswordHash = hash
			return nil
		})
		if err != nil {
			return err
		}
		if err := s.cfg.Store.UseUserMailTokens(ctx, link.User.ID, storage.MailResetPassword, s.now()); err != nil {
			return err
		}
		_, err = s.cfg.Accounts.SignOutUser(ctx, link.User.ID)
		return err
	})
	if errors.Is(err, storage.ErrNotFound) {
		return nil, ErrInvalidLink
	}
	if err != nil {
		return nil, err
	}
	s.cfg.Logger.InfoContext(ctx, "password reset; signed out everywhere", "user_id", link.User.ID)
	return link.User, nil
}

// use marks the link used; losing the race to another request is ErrInvalidLink.
func (s *Service) use(ctx context.Context, link *Link) error {
	err := s.cfg.Store.UseMailToken(ctx, link.digest, s.now())
	if errors.Is(err, storage.ErrConflict) || errors.Is(err, storage.ErrNotFound) {
		return ErrInvalidLink
	}
	return err
}
