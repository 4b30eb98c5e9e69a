package manage

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/gatehouse/gatehouse/server/credential"
	"github.com/gatehouse/gatehouse/storage"
)

// Registration is the outcome of a self-registration.
type Registration struct {
	// User is the new account; its address is not verified.
	User *storage.User
	// Owner is the account that already verified the address, if any: the
	// new account can then never verify it.
	Owner *storage.User
}

// Register creates an account for a person who signs up on their own. The
// rules are CreateUser's, with two differences: a password is required, and
// the address may be one other accounts use (only a verified address is
// unique, so that an unverified registration cannot squat an address). The
// account is created even when a verified account holds the address (Owner
// then names it): the answer, its timing and the ability to sign in must not
// tell whether an address is known.
func (s *Service) Register(ctx context.Context, spec UserSpec) (*Registration, error) {
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
	if spec.Password == "" {
		return nil, invalid("password", "a password is required")
	}
	hash, err := s.hashPassword(ctx, spec.Password)
	if err != nil {
		return nil, err
	}
	u.PasswordHash = hash
	u.ID = credential.RandomID(userIDBytes)
	now := s.now().UTC()
	u.CreatedAt, u.UpdatedAt = now, now
	err = s.store.CreateUser(ctx, u)
	if errors.Is(err, storage.ErrAlreadyExists) {
		// Only the username can clash: the address is unverified.
		return nil, &ValidationError{Field: "username", Message: "this username is already taken", Err: err}
	}
	if err != nil {
		return nil, fmt.Errorf("register user: %w", err)
	}
	owner, err := s.verifiedOwner(ctx, u.Email)
	if err != nil {
		return nil, err
	}
	return &Registration{User: u, Owner: owner}, nil
}

// verifiedOwner returns the account whose verified address is email, or nil.
func (s *Service) verifiedOwner(ctx context.Context, email string) (*storage.User, error) {
	users, err := s.store.FindUsersByEmail(ctx, email)
	if err != nil {
		return nil, fmt.Errorf("find accounts by email: %w", err)
	}
	if len(users) > 0 && users[0].EmailVerified {
		return users[0], nil
	}
	return nil, nil
}

// checkEmailFree refuses an address that any account, verified or not,
// already has. The storage rule is looser (only verified addresses are
// unique, so that an unverified registration cannot squat an address); an
// administrator creating a second account with an address in use is almost
// always a mistake.
func (s *Service) checkEmailFree(ctx context.Context, email string) error {
	users, err := s.store.FindUsersByEmail(ctx, email)
	if err != nil {
		return fmt.Errorf("find accounts by email: %w", err)
	}
	if len(users) > 0 {
		return &ValidationError{Field: "email", Message: "this username or email is already taken", Err: storage.ErrAlreadyExists}
	}
	return nil
}
