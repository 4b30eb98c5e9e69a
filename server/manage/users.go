package manage

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gatehouse/gatehouse/server/credential"
	"github.com/gatehouse/gatehouse/storage"
)

const (
	maxUsernameLength    = 64
	maxEmailLength       = 254
	maxDisplayNameLength = 100
	userIDBytes          = 16
)

// UserSpec is a new user account.
type UserSpec struct {
	Username    string
	Email       string
	DisplayName string
	// Password is optional: a user without one cannot sign in with a
	// password until SetPassword gives them one.
	Password string
}

// CreateUser validates spec and creates the user with a fresh random id, the
// immutable OpenID Connect subject.
func (s *Service) CreateUser(ctx context.Context, spec UserSpec) (*storage.User, error) {
	u := &storage.User{
		Username:    strings.TrimSpace(spec.Username),
		Email:       strings.TrimSpace(spec.Email),
		DisplayName: strings.TrimSpace(spec.DisplayName),
	}
	if err := checkUsername(u.Username); err != nil {
		return nil, err
	}
	if err := checkEmail(u.Email); err != nil {
		return nil, err
	}
	if err := checkText("display_name", u.DisplayName, maxDisplayNameLength); err != nil {
		return nil, err
	}
	if err := s.checkEmailFree(ctx, u.Email); err != nil {
		return nil, err
	}
	if spec.Password != "" {
		hash, err := s.hashPassword(ctx, spec.Password)
		if err != nil {
			return nil, err
		}
		u.PasswordHash = hash
	}
	u.ID = credential.RandomID(userIDBytes)
	now := s.now().UTC()
	u.CreatedAt, u.UpdatedAt = now, now
	err := s.store.CreateUser(ctx, u)
	if errors.Is(err, storage.ErrAlreadyExists) {
		return nil, &ValidationError{Field: "username", Message: "this username or email is already taken", Err: err}
	}
	if err != nil {
		return nil, fmt.Errorf("create user %q: %w", u.Username, err)
	}
	return u, nil
}

// ListUsers returns every user.
func (s *Service) ListUsers(ctx context.Context) ([]*storage.User, error) {
	us, err := s.store.ListUsers(ctx)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return us, nil
}

// GetUser finds a user by id or, failing that, by username.
func (s *Service) GetUser(ctx context.Context, idOrUsername string) (*storage.User, error) {
	u, err := s.store.FindUser(ctx, idOrUsername)
	if errors.Is(err, storage.ErrNotFound) {
		u, err = s.store.FindUserByUsername(ctx, idOrUsername)
	}
	if errors.Is(err, storage.ErrNotFound) {
		return nil, &NotFoundError{Kind: "user", ID: idOrUsername}
	}
	if err != nil {
		return nil, fmt.Errorf("load user %q: %w", idOrUsername, err)
	}
	return u, nil
}

// SetPassword replaces the user's password and ends their browser sessions,
// so that whoever knew the old password is signed out. Issued tokens stay
// valid; DisableUser revokes those.
func (s *Service) SetPassword(ctx context.Context, idOrUsername, password string) (*storage.User, error) {
	hash, err := s.hashPassword(ctx, password)
	if err != nil {
		return nil, err
	}
	u, err := s.updateUser(ctx, idOrUsername, func(u *storage.User) { u.PasswordHash = hash })
	if err != nil {
		return nil, err
	}
	if err := s.endSessions(ctx, u.ID); err != nil {
		return nil, err
	}
	return u, nil
}

// DisableUser stops the user from signing in, ends their browser sessions,
// revokes their tokens and forgets their consents.
func (s *Service) DisableUser(ctx context.Context, idOrUsername string) (*storage.User, error) {
	u, err := s.updateUser(ctx, idOrUsername, func(u *storage.User) { u.Disabled = true })
	if err != nil {
		return nil, err
	}
	if err := s.endSessions(ctx, u.ID); err != nil {
		return nil, err
	}
	if err := s.store.RevokeSubjectTokens(ctx, u.ID); err != nil {
		return nil, fmt.Errorf("revoke tokens of user %q: %w", u.ID, err)
	}
	if err := s.forgetConsents(ctx, u.ID); err != nil {
		return nil, err
	}
	return u, nil
}

// EnableUser lets a disabled user sign in again.
func (s *Service) EnableUser(ctx context.Context, idOrUsername string) (*storage.User, error) {
	return s.updateUser(ctx, idOrUsername, func(u *storage.User) { u.Disabled = false })
}

// DeleteUser deletes the user; the store ends their sessions and removes
// their consents and tokens. The id is never reused.
func (s *Service) DeleteUser(ctx context.Context, idOrUsername string) (*storage.User, error) {
	u, err := s.GetUser(ctx, idOrUsername)
	if err != nil {
		return nil, err
	}
	if err := s.endSessions(ctx, u.ID); err != nil {
		return nil, err
	}
	// Revoke first: should the delete fail halfway, the tokens are dead anyway.
	if err := s.store.RevokeSubjectTokens(ctx, u.ID); err != nil {
		return nil, fmt.Errorf("revoke tokens of user %q: %w", u.ID, err)
	}
	err = s.store.DeleteUser(ctx, u.ID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, &NotFoundError{Kind: "user", ID: idOrUsername}
	}
	if err != nil {
		return nil, fmt.Errorf("delete user %q: %w", u.ID, err)
	}
	return u, nil
}

// SignOutUser signs a user out everywhere: every browser session ends (their
// clients get back-channel logout tokens) and every access and refresh token
// issued to the user is revoked.
func (s *Service) SignOutUser(ctx context.Context, idOrUsername string) (*storage.User, error) {
	u, err := s.GetUser(ctx, idOrUsername)
	if err != nil {
		return nil, err
	}
	if err := s.endSessions(ctx, u.ID); err != nil {
		return nil, err
	}
	if err := s.store.RevokeSubjectTokens(ctx, u.ID); err != nil {
		return nil, fmt.Errorf("revoke tokens of user %q: %w", u.ID, err)
	}
	return u, nil
}

// endSessions ends every browser session of a user, telling their clients.
func (s *Service) endSessions(ctx context.Context, userID string) error {
	if s.logout != nil {
		if err := s.logout.EndUserSessions(ctx, userID); err != nil {
			return fmt.Errorf("back-channel logout of user %q: %w", userID, err)
		}
	}
	if err := s.store.DeleteUserBrowserSessions(ctx, userID); err != nil {
		return fmt.Errorf("end sessions of user %q: %w", userID, err)
	}
	return nil
}

func (s *Service) updateUser(ctx context.Context, idOrUsername string, fn func(*storage.User)) (*storage.User, error) {
	u, err := s.GetUser(ctx, idOrUsername)
	if err != nil {
		return nil, err
	}
	var updated *storage.User
	err = s.store.UpdateUser(ctx, u.ID, func(u *storage.User) error {
		fn(u)
		u.UpdatedAt = s.now().UTC()
		updated = u
		return nil
	})
	if errors.Is(err, storage.ErrNotFound) {
		return nil, &NotFoundError{Kind: "user", ID: idOrUsername}
	}
	if err != nil {
		return nil, fmt.Errorf("update user %q: %w", u.ID, err)
	}
	return updated, nil
}

// forgetConsents removes the user's remembered consent for every client.
func (s *Service) forgetConsents(ctx context.Context, userID string) error {
	consents, err := s.store.ListUserConsents(ctx, userID)
	if err != nil {
		return fmt.Errorf("list consents of user %q: %w", userID, err)
	}
	for _, c := range consents {
		if err := s.store.DeleteConsent(ctx, userID, c.ClientID); err != nil && !errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("forget consent of user %q for client %q: %w", userID, c.ClientID, err)
		}
	}
	return nil
}

func (s *Service) hashPassword(ctx context.Context, password string) (string, error) {
	if err := credential.ValidatePassword(password); err != nil {
		return "", &ValidationError{Field: "password", Message: err.Error()}
	}
	if s.passwords == nil {
		return "", errors.New("manage: no password hasher configured")
	}
	hash, err := s.passwords.Hash(ctx, password)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return hash, nil
}

func checkUsername(name string) error {
	if name == "" {
		return invalid("username", "a username is required")
	}
	return checkText("username", name, maxUsernameLength)
}

func checkText(field, s string, maxLen int) error {
	switch {
	case !utf8.ValidString(s):
		return invalid(field, "must be valid UTF-8")
	case utf8.RuneCountInString(s) > maxLen:
		return invalid(field, "at most %d characters", maxLen)
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		return invalid(field, "must not contain control characters")
	}
	return nil
}

// checkEmail accepts a bare address (no display name, no angle brackets).
func checkEmail(email string) error {
	if email == "" {
		return invalid("email", "an email address is required")
	}
	if len(email) > maxEmailLength {
		return invalid("email", "at most %d characters", maxEmailLength)
	}
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Name != "" || addr.Address != email {
		return invalid("email", "%q is not a valid email address", email)
	}
	return nil
}
