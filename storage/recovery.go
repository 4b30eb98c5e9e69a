package storage

import (
	"context"
	"time"
)

// Purposes of the mails Gatehouse sends about an account (MailToken.Purpose).
const (
	// MailVerifyEmail carries a link that proves the user reads Email.
	MailVerifyEmail = "verify_email"
	// MailResetPassword carries a link that sets a new password.
	MailResetPassword = "reset_password"
	// MailAccountExists tells the owner of an address that someone tried to
	// register it again. It carries no link (Digest is nil).
	MailAccountExists = "account_exists"
)

// MailToken is one mail sent about an account and, for verification and
// reset mails, the single-use link it carries. Only a keyed digest of the
// link's token is stored; the token itself exists only in the mail. Every
// mail is recorded, links or not, so that the mails sent to an address can
// be counted (rate limit).
type MailToken struct {
	// Digest is the keyed digest of the token; nil for mails without a link.
	Digest  []byte
	Purpose string
	UserID  string
	// Email is the address the mail went to: for MailVerifyEmail, the
	// address the link verifies.
	Email     string
	CreatedAt time.Time
	ExpiresAt time.Time
	// UsedAt is zero while the link is unused.
	UsedAt time.Time
}

// Recovery stores what self-registration, email verification and password
// recovery need.
type Recovery interface {
	// FindUsersByEmail returns the accounts whose NormalizeIdentifier(email)
	// equals that of email, verified ones first, then newest first. Only
	// verified addresses are unique: unverified accounts may share one.
	FindUsersByEmail(ctx context.Context, email string) ([]*User, error)
	// CreateMailToken records a mail; a token with a Digest already stored
	// fails with ErrAlreadyExists.
	CreateMailToken(ctx context.Context, t *MailToken) error
	// FindMailToken returns the token of purpose whose digest is one of
	// digests (used, expired or not: callers decide), or ErrNotFound.
	FindMailToken(ctx context.Context, purpose string, digests [][]byte) (*MailToken, error)
	// UseMailToken marks the token used at now if it is unused and not
	// expired at now, as one conditional update: of concurrent callers
	// exactly one succeeds, the others get ErrConflict (ErrNotFound when
	// no such token exists).
	UseMailToken(ctx context.Context, digest []byte, now time.Time) error
	// UseUserMailTokens marks every unused token of the user and purpose
	// used at now (a reset invalidates the other reset links).
	UseUserMailTokens(ctx context.Context, userID, purpose string, now time.Time) error
	// CountMailsSince counts the mails recorded for the address (compared
	// by NormalizeIdentifier) created after since.
	CountMailsSince(ctx context.Context, email string, since time.Time) (int, error)
}
