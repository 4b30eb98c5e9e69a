package manage

import (
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
}

// New returns a Service. passwords may be nil for callers that never set
// passwords, secrets may be nil for callers that never create confidential
// clients; now nil means time.Now.
func New(store storage.Store, passwords *credential.Passwords, secrets *credential.SecretHasher, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: store, passwords: passwords, secrets: secrets, now: now}
}
