package storage

import "time"

// User is a person who signs in. ID is the immutable OpenID Connect `sub`: a
// random identifier, never the username or the email, never reused.
type User struct {
	ID string
	// Username as the user typed it; uniqueness is on NormalizeIdentifier(Username).
	Username      string
	Email         string
	EmailVerified bool
	DisplayName   string
	// PasswordHash is an argon2id PHC string; empty means no password login.
	PasswordHash string
	Disabled     bool
	// RequireMFA makes the second factor mandatory at every login.
	RequireMFA bool
	CreatedAt  time.Time
	UpdatedAt  time.Time
	// Roles are the roles the user holds, by name, and HasTOTP whether an
	// authenticator app is enrolled, read with the user by FindUser (one
	// query: authorization, refresh and UserInfo need them). Writes ignore
	// them: role grants and TOTP enrollment have their own methods.
	Roles   []*Role
	HasTOTP bool
}

// BrowserSession is a signed-in browser (single sign-on). ID is a digest of
// the secret carried by the session cookie; SID is the public session id that
// goes into ID tokens (`sid`) and logout tokens.
type BrowserSession struct {
	ID     string
	SID    string
	UserID string
	// AuthTime is when the user last proved a password (OIDC auth_time).
	AuthTime time.Time
	// AMR lists the authentication methods used (RFC 8176), e.g. ["pwd"].
	AMR        []string
	CreatedAt  time.Time
	LastSeenAt time.Time
	// ExpiresAt is the absolute end of the session; the idle limit is
	// enforced by callers from LastSeenAt.
	ExpiresAt time.Time
}

// AuthRequest is a pending interactive authorization: the original
// authorization request (its query string), bound to one browser, and what
// the user has done for it so far. It expires after a few minutes.
type AuthRequest struct {
	ID string
	// BindingDigest is a digest of the browser-binding cookie value; only the
	// browser that started the request may continue it.
	BindingDigest string
	ClientID      string
	// Query is the URL-encoded authorization request.
	Query string
	// UserID and AuthTime are set once the user has signed in for this request.
	UserID   string
	AuthTime time.Time
	AMR      []string
	// ConsentGiven is set when the user accepted the consent screen.
	ConsentGiven bool
	CreatedAt    time.Time
	ExpiresAt    time.Time
}

// Consent remembers which scopes a user granted a client.
type Consent struct {
	UserID    string
	ClientID  string
	Scopes    []string
	GrantedAt time.Time
	ExpiresAt time.Time
}

// SigningKey is one of Gatehouse's own signing keys. The key is published in
// the JWKS from CreatedAt, used for signing from ActivateAt, and removed from
// the JWKS once retired.
type SigningKey struct {
	KID string
	// Alg is RS256 or ES256.
	Alg string
	// PublicJWK is the public key as a JSON Web Key.
	PublicJWK []byte
	// PrivateKeyCiphertext is the AEAD-encrypted private key (PKCS#8 DER).
	PrivateKeyCiphertext []byte
	CreatedAt            time.Time
	ActivateAt           time.Time
	RetiredAt            *time.Time
}
