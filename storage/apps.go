package storage

import (
	"context"
	"time"
)

// ConnectedApps answers the account pages' questions about the apps a user
// signed in to.
type ConnectedApps interface {
	// LastTokenIssued returns when the client last received a token for
	// the user (zero time if none is on record).
	LastTokenIssued(ctx context.Context, userID, clientID string) (time.Time, error)
	// RevokeUserClientTokens revokes every access and refresh token, and
	// invalidates every unused code, of one client for one user.
	RevokeUserClientTokens(ctx context.Context, userID, clientID string) error
	// DeleteOtherBrowserSessions ends every session of the user except keepID.
	DeleteOtherBrowserSessions(ctx context.Context, userID, keepID string) error
}
