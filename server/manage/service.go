package manage

import (
	"context"
	"time"

	"github.com/gatehouse/gatehouse/server/credential"
	"github.com/gatehouse/gatehouse/storage"
)

// Service provisions clients and users.
type Service struct {
	store     storage.Store
	passwords *credential.Passwords
	secrets   *credential.SecretHasher
	now       func() time.Time
	logout    SessionEnder
}

// SessionEnder tells the clients of a user's ending sessions (back-channel
// logout); see server/logout.
type SessionEnder interface {
	EndUserSessions(ctx context.Context, userID string) error
}

// Option configures a Service.
type Option func(*Service)

// WithLogout makes the Service send back-channel logout tokens whenever it
// ends a user's sessions.
func WithLogout(n SessionEnder) Option {
	return func(s *Service) { s.logout = n }
}

// New returns a Service. passwords may be nil for callers that never set
// passwords, secrets may be nil for callers that never create confidential
// clients; now nil means time.Now.
func New(store storage.Store, passwords *credential.Passwords, secrets *credential.SecretHasher, now func() time.Time, opts ...Option) *Service {
	if now == nil {
		now = time.Now
	}
	s := &Service{store: store, passwords: passwords, secrets: secrets, now: now}
	for _, opt := range opts {
		opt(s)
	}
	return s
}
