package server

import (
	"context"
	"log/slog"
	"net/netip"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gatehouse/gatehouse/server/credential"
	"github.com/gatehouse/gatehouse/server/keys"
	"github.com/gatehouse/gatehouse/server/mail"
	"github.com/gatehouse/gatehouse/server/policy"
	"github.com/gatehouse/gatehouse/server/secret"
	"github.com/gatehouse/gatehouse/storage"
)

// Config is everything the server needs; cmd/gatehouse builds it.
type Config struct {
	// Issuer is the public base URL, the `iss` of every token (no trailing slash).
	Issuer string
	// Dev relaxes checks meant for production (http issuer on localhost,
	// debug messages to clients).
	Dev       bool
	Store     storage.Store
	Keyring   *secret.Keyring
	Keys      *keys.Manager
	Passwords *credential.Passwords
	Logger    *slog.Logger
	Lifetimes Lifetimes
	// AllowPrivateOutbound lets outbound requests (jwks_uri) reach loopback
	// and private addresses over http (dev mode and tests).
	AllowPrivateOutbound bool
	// TrustedProxies are the peers whose X-Forwarded-For names the source
	// address (lockouts and rate limits count by it).
	TrustedProxies []netip.Prefix
	// Lockout is the sign-in lockout policy per (account, address); the
	// zero value means 5 failures in 10 minutes lock for 1, 5, 15 minutes.
	Lockout policy.Lockout
	// LockoutDelay is the extra wait per failure beyond the lockout
	// threshold of an account (all addresses together); 0 means 1 s.
	LockoutDelay time.Duration
	// Mail sends verification and password-reset mails; nil means none can
	// be sent (the recovery pages then say so).
	Mail mail.Sender
	// Registration opens self-registration at /register; it needs Mail.
	Registration bool
	// DynamicRegistration opens RFC 7591/7592 client registration at
	// /oauth2/register; it needs RegistrationTokens.
	DynamicRegistration bool
	// RegistrationTokens are the initial access tokens a dynamic
	// registration must present.
	RegistrationTokens []string
	// MailsPerHour bounds the mails sent to one address in an hour; 0 means 5.
	MailsPerHour int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Metrics is the registry /metrics serves and Gatehouse's collectors
	// are registered on; nil means no metrics.
	Metrics *prometheus.Registry
	// Migrations tells /health/ready whether the schema is current; nil
	// means the readiness check only pings the database.
	Migrations MigrationChecker
}

// MigrationChecker reports whether database migrations remain to be applied.
type MigrationChecker interface {
	PendingMigrations(ctx context.Context) (bool, error)
}

// Lifetimes are the token and session lifetimes (SECURITY.md defaults).
type Lifetimes struct {
	AuthorizeCode   time.Duration
	AccessToken     time.Duration
	JWTAccessToken  time.Duration
	IDToken         time.Duration
	RefreshIdle     time.Duration
	RefreshAbsolute time.Duration
	SessionIdle     time.Duration
	SessionAbsolute time.Duration
	Consent         time.Duration
	PendingLogin    time.Duration
}

// DefaultLifetimes are the SECURITY.md defaults.
func DefaultLifetimes() Lifetimes {
	return Lifetimes{
		AuthorizeCode:   60 * time.Second,
		AccessToken:     15 * time.Minute,
		JWTAccessToken:  5 * time.Minute,
		IDToken:         15 * time.Minute,
		RefreshIdle:     30 * 24 * time.Hour,
		RefreshAbsolute: 90 * 24 * time.Hour,
		SessionIdle:     24 * time.Hour,
		SessionAbsolute: 14 * 24 * time.Hour,
		Consent:         365 * 24 * time.Hour,
		PendingLogin:    5 * time.Minute,
	}
}

// LongestTokenLifetime bounds how long a signing key must stay published
// after it stopped signing.
func (l Lifetimes) LongestTokenLifetime() time.Duration {
	return max(l.AccessToken, l.JWTAccessToken, l.IDToken)
}
