package manage

import (
	"context"

	"github.com/gatehouse/gatehouse/server/throttle"
	"github.com/gatehouse/gatehouse/storage"
)

// UnlockUser lifts every sign-in lock of a user: password and second
// factor, on every address.
func (s *Service) UnlockUser(ctx context.Context, idOrUsername string) (*storage.User, error) {
	u, err := s.GetUser(ctx, idOrUsername)
	if err != nil {
		return nil, err
	}
	if err := throttle.Unlock(ctx, s.store, storage.NormalizeIdentifier(u.Username), u.ID); err != nil {
		return nil, err
	}
	return u, nil
}
