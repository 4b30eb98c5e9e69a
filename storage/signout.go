package storage

import (
	"context"
	"time"
)

// SessionClients remembers which clients each browser session signed in to,
// so that ending a session can notify them (back-channel logout).
type SessionClients interface {
	// RecordSessionClient notes that session sid signed userID in to
	// clientID (idempotent; a later call extends expiresAt).
	RecordSessionClient(ctx context.Context, sid, userID, clientID string, expiresAt time.Time) error
	// SessionClients returns the ids of the clients session sid signed in to.
	SessionClients(ctx context.Context, sid string) ([]string, error)
	// UserSessionClients returns, per session id, the clients each of the
	// user's sessions signed in to.
	UserSessionClients(ctx context.Context, userID string) (map[string][]string, error)
	// ForgetSessionClients deletes the records of session sid.
	ForgetSessionClients(ctx context.Context, sid string) error
}
