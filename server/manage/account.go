package manage

import (
	"context"
	"fmt"
	"strings"

	"github.com/gatehouse/gatehouse/storage"
)

// OtherSessionsEnder also ends all sessions but one (a password change keeps
// the session it was made in).
type OtherSessionsEnder interface {
	EndOtherSessions(ctx context.Context, userID, keepSID string) error
}

// ChangePassword sets a user's new password (the caller checked the current
// one). Every other browser session ends — their apps get back-channel
// logout tokens — and every token issued to the user is revoked; the
// session keep (the one the change was made in) survives.
func (s *Service) ChangePassword(ctx context.Context, userID, password string, keep *storage.BrowserSession) error {
	hash, err := s.hashPassword(ctx, password)
	if err != nil {
		return err
	}
	if _, err := s.updateUser(ctx, userID, func(u *storage.User) { u.PasswordHash = hash }); err != nil {
		return err
	}
	if n, ok := s.logout.(OtherSessionsEnder); ok {
		if err := n.EndOtherSessions(ctx, userID, keep.SID); err != nil {
			return fmt.Errorf("back-channel logout of user %q: %w", userID, err)
		}
	}
	if err := s.store.DeleteOtherBrowserSessions(ctx, userID, keep.ID); err != nil {
		return fmt.Errorf("end other sessions of user %q: %w", userID, err)
	}
	if err := s.store.RevokeSubjectTokens(ctx, userID); err != nil {
		return fmt.Errorf("revoke tokens of user %q: %w", userID, err)
	}
	return nil
}

// DisconnectApp forgets a user's consent for a client and revokes every
// token the client holds for the user.
func (s *Service) DisconnectApp(ctx context.Context, userID, clientID string) error {
	if err := s.store.DeleteConsent(ctx, userID, clientID); err != nil {
		return fmt.Errorf("forget consent of user %q for client %q: %w", userID, clientID, err)
	}
	if err := s.store.RevokeUserClientTokens(ctx, userID, clientID); err != nil {
		return fmt.Errorf("revoke tokens of user %q for client %q: %w", userID, clientID, err)
	}
	return nil
}

// SetDisplayName changes the name a user shows to apps (the name claim).
func (s *Service) SetDisplayName(ctx context.Context, userID, name string) (*storage.User, error) {
	name = strings.TrimSpace(name)
	if err := checkText("name", name, maxDisplayNameLength); err != nil {
		return nil, err
	}
	return s.updateUser(ctx, userID, func(u *storage.User) { u.DisplayName = name })
}

// CheckEmail validates an email address the way user creation does.
func CheckEmail(email string) error { return checkEmail(email) }
