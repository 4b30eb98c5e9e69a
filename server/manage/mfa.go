package manage

import (
	"context"
	"fmt"

	"github.com/gatehouse/gatehouse/server/mfa"
	"github.com/gatehouse/gatehouse/storage"
)

// SetRequireMFA makes the second factor mandatory at every login of the
// user (required) or optional again. A user without an authenticator app
// sets one up at their next login.
func (s *Service) SetRequireMFA(ctx context.Context, idOrUsername string, required bool) (*storage.User, error) {
	return s.updateUser(ctx, idOrUsername, func(u *storage.User) { u.RequireMFA = required })
}

// ResetMFA removes the user's authenticator app, recovery codes, pending
// enrollment and second-factor lock, and ends their browser sessions: whoever
// holds a session made with the old factor is signed out. removed reports
// whether the user had an authenticator app. Issued tokens stay valid
// (`users sign-out` revokes those).
func (s *Service) ResetMFA(ctx context.Context, idOrUsername string) (u *storage.User, removed bool, err error) {
	if u, err = s.GetUser(ctx, idOrUsername); err != nil {
		return nil, false, err
	}
	if removed, err = s.store.DeleteSecondFactor(ctx, u.ID); err != nil {
		return nil, false, fmt.Errorf("reset second factor of user %q: %w", u.ID, err)
	}
	if err := s.store.DeleteAttemptCounters(ctx, mfa.LockoutKey(u.ID)); err != nil {
		return nil, false, fmt.Errorf("reset second-factor lock of user %q: %w", u.ID, err)
	}
	if err := s.store.DeleteUserBrowserSessions(ctx, u.ID); err != nil {
		return nil, false, fmt.Errorf("end sessions of user %q: %w", u.ID, err)
	}
	return u, removed, nil
}
