package storage

import (
	"context"
	"strings"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/oauth2"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/fosite/handler/pkce"
	fositestorage "github.com/ory/fosite/storage"
	"golang.org/x/text/unicode/norm"
)

// Store is everything Gatehouse persists. Every method that runs inside a
// transaction started with BeginTX uses that transaction (carried by ctx).
type Store interface {
	Clients
	Users
	BrowserSessions
	AuthRequests
	Consents
	SigningKeys
	Roles
	SessionClients
	ConnectedApps
	AttemptCounters
	SignInEvents
	SecondFactors
	Recovery
	OAuth
	// Prefetch reads the rows p names and returns a context whose reads of
	// them, outside transactions, are answered from what it read. It never
	// fails: a row it could not read is read again when asked for.
	Prefetch(ctx context.Context, p Prefetch) context.Context
	// Ping reports whether the database answers (ErrUnavailable if not).
	Ping(ctx context.Context) error
	// DeleteExpired removes expired sessions, pending requests, consents,
	// JWT ids, counters, mail links and fosite records whose expiry is
	// before now, in bounded batches; when another instance is cleaning it
	// may return at once.
	DeleteExpired(ctx context.Context, now time.Time) error
	Close() error
}

// OAuth is the set of fosite storage interfaces Gatehouse's handlers need,
// plus transactions so that code exchange and refresh rotation are atomic.
type OAuth interface {
	fosite.ClientManager
	oauth2.CoreStorage
	oauth2.TokenRevocationStorage
	openid.OpenIDConnectRequestStorage
	pkce.PKCERequestStorage
	fositestorage.Transactional
	// RevokeSubjectTokens revokes every access and refresh token issued to a
	// user (by fosite subject) and invalidates their pending codes.
	RevokeSubjectTokens(ctx context.Context, subject string) error
}

// Clients stores registered clients. GetClient (from fosite.ClientManager)
// returns a *Client.
type Clients interface {
	CreateClient(ctx context.Context, c *Client) error
	// FindClient returns the client or ErrNotFound.
	FindClient(ctx context.Context, id string) (*Client, error)
	ListClients(ctx context.Context) ([]*Client, error)
	// UpdateClient loads the client, applies fn and saves the result, in one
	// transaction. An error from fn aborts the update and is returned.
	UpdateClient(ctx context.Context, id string, fn func(*Client) error) error
	// DeleteClient deletes the client with its tokens, codes and consents.
	DeleteClient(ctx context.Context, id string) error
}

// Users stores user accounts.
type Users interface {
	// CreateUser fails with ErrAlreadyExists when the normalized username or
	// email is taken.
	CreateUser(ctx context.Context, u *User) error
	FindUser(ctx context.Context, id string) (*User, error)
	// FindUserByUsername looks the user up by NormalizeIdentifier(username).
	FindUserByUsername(ctx context.Context, username string) (*User, error)
	ListUsers(ctx context.Context) ([]*User, error)
	UpdateUser(ctx context.Context, id string, fn func(*User) error) error
	// DeleteUser deletes the user with their sessions, consents and tokens.
	DeleteUser(ctx context.Context, id string) error
}

// BrowserSessions stores signed-in browsers.
type BrowserSessions interface {
	CreateBrowserSession(ctx context.Context, s *BrowserSession) error
	// FindBrowserSession returns ErrNotFound for unknown or expired sessions.
	FindBrowserSession(ctx context.Context, id string) (*BrowserSession, error)
	UpdateBrowserSession(ctx context.Context, id string, fn func(*BrowserSession) error) error
	DeleteBrowserSession(ctx context.Context, id string) error
	// DeleteUserBrowserSessions ends every session of a user.
	DeleteUserBrowserSessions(ctx context.Context, userID string) error
	// ListUserBrowserSessions returns the user's unexpired sessions, newest first.
	ListUserBrowserSessions(ctx context.Context, userID string) ([]*BrowserSession, error)
}

// AuthRequests stores pending interactive authorizations.
type AuthRequests interface {
	CreateAuthRequest(ctx context.Context, r *AuthRequest) error
	// FindAuthRequest returns ErrNotFound for unknown or expired requests.
	FindAuthRequest(ctx context.Context, id string) (*AuthRequest, error)
	UpdateAuthRequest(ctx context.Context, id string, fn func(*AuthRequest) error) error
	DeleteAuthRequest(ctx context.Context, id string) error
}

// Consents stores remembered consent.
type Consents interface {
	// FindConsent returns ErrNotFound when none is remembered or it expired.
	FindConsent(ctx context.Context, userID, clientID string) (*Consent, error)
	// SaveConsent creates or replaces the consent of (UserID, ClientID).
	SaveConsent(ctx context.Context, c *Consent) error
	// ListUserConsents returns the user's unexpired consents.
	ListUserConsents(ctx context.Context, userID string) ([]*Consent, error)
	DeleteConsent(ctx context.Context, userID, clientID string) error
}

// SigningKeys stores Gatehouse's own signing keys.
type SigningKeys interface {
	CreateSigningKey(ctx context.Context, k *SigningKey) error
	// ListSigningKeys returns every key, retired ones included, oldest first.
	ListSigningKeys(ctx context.Context) ([]*SigningKey, error)
	UpdateSigningKey(ctx context.Context, kid string, fn func(*SigningKey) error) error
}

// NormalizeIdentifier is the form in which usernames and emails are unique:
// Unicode NFKC, then lower case, trimmed.
func NormalizeIdentifier(s string) string {
	return strings.ToLower(strings.TrimSpace(norm.NFKC.String(s)))
}

// Kinds of TOTP secret a TOTPResealer hands to its function.
const (
	TOTPCredentialSecret = "credential"
	TOTPEnrollmentSecret = "enrollment"
)

// TOTPResealer rewrites the TOTP secrets sealed at rest, so that a rotated
// system secret can take over (gatehouse secrets reencrypt). It is not part
// of Store: only the command that rotates needs it.
type TOTPResealer interface {
	// ResealTOTPSecrets calls fn with each sealed secret (kind is
	// TOTPCredentialSecret or TOTPEnrollmentSecret) and stores what it
	// returns; it returns the number of rows rewritten.
	ResealTOTPSecrets(ctx context.Context, fn func(kind, userID string, sealed []byte) ([]byte, error)) (int, error)
}
