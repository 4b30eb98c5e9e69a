package recovery

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/gatehouse/gatehouse/server/credential"
	"github.com/gatehouse/gatehouse/server/mail"
	"github.com/gatehouse/gatehouse/server/manage"
	"github.com/gatehouse/gatehouse/server/secret"
	"github.com/gatehouse/gatehouse/storage"
)

// Defaults of Config.
const (
	DefaultVerifyLifetime = 24 * time.Hour
	DefaultResetLifetime  = 30 * time.Minute
	DefaultMailsPerHour   = 5
)

// maxAccountsPerAddress bounds the mails one request sends when several
// unverified accounts share an address.
const maxAccountsPerAddress = 3

// tokenBytes gives links 256 bits of entropy: a keyed digest is then as safe
// to store as a slow hash.
const tokenBytes = 32

var (
	// ErrInvalidLink means the link is unknown, already used or expired
	// (or its account is gone or disabled).
	ErrInvalidLink = errors.New("recovery: the link is unknown, used or expired")
	// ErrEmailTaken means another account verified the address first.
	ErrEmailTaken = errors.New("recovery: the address belongs to another account")
)

// Config wires a Service.
type Config struct {
	Store storage.Store
	// Accounts applies the rules of a valid account and ends sessions
	// (with back-channel logout) after a reset.
	Accounts  *manage.Service
	Passwords *credential.Passwords
	// Tokens digests link tokens (keyring purpose secret.PurposeMailToken).
	Tokens *secret.Digester
	Outbox *mail.Outbox
	Mails  *mail.Templates
	// VerifyURL, ResetURL and ForgotURL are the absolute URLs of the pages
	// the mails link to.
	VerifyURL, ResetURL, ForgotURL string
	// VerifyLifetime and ResetLifetime bound the links (24 h and 30 min
	// when zero).
	VerifyLifetime, ResetLifetime time.Duration
	// MailsPerHour bounds the mails sent to one address in an hour (5 when
	// zero): the forms must not become a way to flood someone's mailbox.
	MailsPerHour int
	Logger       *slog.Logger
	Now          func() time.Time
}

// Service runs registration, verification and recovery.
type Service struct {
	cfg Config
}

// mailNames are the templates the service renders.
var mailNames = []string{storage.MailVerifyEmail, storage.MailResetPassword, storage.MailAccountExists}

// New checks cfg and returns a Service.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Accounts == nil || cfg.Passwords == nil || cfg.Tokens == nil || cfg.Outbox == nil || cfg.Mails == nil {
		return nil, errors.New("recovery: Store, Accounts, Passwords, Tokens, Outbox and Mails are required")
	}
	for _, name := range mailNames {
		if !cfg.Mails.Has(name) {
			return nil, fmt.Errorf("recovery: no mail template %q", name)
		}
	}
	if cfg.VerifyLifetime <= 0 {
		cfg.VerifyLifetime = DefaultVerifyLifetime
	}
	if cfg.ResetLifetime <= 0 {
		cfg.ResetLifetime = DefaultResetLifetime
	}
	if cfg.MailsPerHour <= 0 {
		cfg.MailsPerHour = DefaultMailsPerHour
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Service{cfg: cfg}, nil
}

func (s *Service) now() time.Time { return s.cfg.Now().UTC() }

// Register signs a person up. A *manage.ValidationError is for the person
// (their input); nil means "check your mail": the new account gets a
// verification mail, or, when another account already verified the address,
// that account's owner gets a "you already have an account" mail instead.
func (s *Service) Register(ctx context.Context, spec manage.UserSpec) error {
	reg, err := s.cfg.Accounts.Register(ctx, spec)
	if err != nil {
		return err
	}
	if reg.Owner != nil {
		s.cfg.Logger.InfoContext(ctx, "account registered with an address another account verified",
			"user_id", reg.User.ID, "owner_id", reg.Owner.ID)
		return s.notifyAccountExists(ctx, reg.Owner)
	}
	s.cfg.Logger.InfoContext(ctx, "account registered", "user_id", reg.User.ID)
	return s.SendVerification(ctx, reg.User, reg.User.Email)
}

// SendVerification mails user a link that, once used, makes email their
// verified address (also for an address that is to replace the current one).
func (s *Service) SendVerification(ctx context.Context, user *storage.User, email string) error {
	return s.sendLink(ctx, storage.MailVerifyEmail, user, email, s.cfg.VerifyURL, s.cfg.VerifyLifetime)
}

// ResendVerification mails a new verification link to the unverified
// accounts with this address. It does nothing when a verified account holds
// the address or none has it, and answers the same.
func (s *Service) ResendVerification(ctx context.Context, email string) error {
	users, err := s.cfg.Store.FindUsersByEmail(ctx, email)
	if err != nil {
		return fmt.Errorf("find accounts by email: %w", err)
	}
	if len(users) > 0 && users[0].EmailVerified {
		return nil
	}
	for _, u := range active(users) {
		if err := s.SendVerification(ctx, u, u.Email); err != nil {
			return err
		}
	}
	return nil
}

// Forgot mails a password-reset link for the account with this address:
// the one that verified it, else the unverified ones that use it. An
// unknown address sends nothing and answers the same.
func (s *Service) Forgot(ctx context.Context, email string) error {
	users, err := s.cfg.Store.FindUsersByEmail(ctx, email)
	if err != nil {
		return fmt.Errorf("find accounts by email: %w", err)
	}
	if len(users) > 0 && users[0].EmailVerified {
		users = users[:1]
	}
	for _, u := range active(users) {
		if err := s.sendLink(ctx, storage.MailResetPassword, u, u.Email, s.cfg.ResetURL, s.cfg.ResetLifetime); err != nil {
			return err
		}
	}
	return nil
}

// active drops disabled accounts and bounds the list.
func active(users []*storage.User) []*storage.User {
	var out []*storage.User
	for _, u := range users {
		if !u.Disabled && len(out) < maxAccountsPerAddress {
			out = append(out, u)
		}
	}
	return out
}

// sendLink records a new single-use link and queues its mail.
func (s *Service) sendLink(ctx context.Context, purpose string, user *storage.User, email, pageURL string, lifetime time.Duration) error {
	ok, err := s.allow(ctx, purpose, user, email)
	if err != nil || !ok {
		return err
	}
	token := newToken()
	now := s.now()
	err = s.cfg.Store.CreateMailToken(ctx, &storage.MailToken{
		Digest: s.cfg.Tokens.Digest([]byte(token)), Purpose: purpose, UserID: user.ID,
		Email: email, CreatedAt: now, ExpiresAt: now.Add(lifetime),
	})
	if err != nil {
		return fmt.Errorf("record %s link: %w", purpose, err)
	}
	return s.post(purpose, user, email, map[string]any{
		"Username": user.Username,
		"Email":    email,
		"Link":     pageURL + "?token=" + token,
		"Validity": validity(lifetime),
	})
}

// notifyAccountExists tells the owner of an address that someone tried to
// register it.
func (s *Service) notifyAccountExists(ctx context.Context, owner *storage.User) error {
	ok, err := s.allow(ctx, storage.MailAccountExists, owner, owner.Email)
	if err != nil || !ok {
		return err
	}
	now := s.now()
	err = s.cfg.Store.CreateMailToken(ctx, &storage.MailToken{
		Purpose: storage.MailAccountExists, UserID: owner.ID, Email: owner.Email,
		CreatedAt: now, ExpiresAt: now.Add(time.Hour),
	})
	if err != nil {
		return fmt.Errorf("record account notice: %w", err)
	}
	return s.post(storage.MailAccountExists, owner, owner.Email, map[string]any{
		"Username":   owner.Username,
		"Email":      owner.Email,
		"ForgotLink": s.cfg.ForgotURL,
	})
}

// allow applies the per-address mail limit.
func (s *Service) allow(ctx context.Context, purpose string, user *storage.User, email string) (bool, error) {
	n, err := s.cfg.Store.CountMailsSince(ctx, email, s.now().Add(-time.Hour))
	if err != nil {
		return false, fmt.Errorf("count recent mails: %w", err)
	}
	if n >= s.cfg.MailsPerHour {
		s.cfg.Logger.WarnContext(ctx, "mail not sent: hourly limit for the address reached", "mail", purpose, "user_id", user.ID)
		return false, nil
	}
	return true, nil
}

func (s *Service) post(purpose string, user *storage.User, email string, data map[string]any) error {
	msg, err := s.cfg.Mails.Render(purpose, email, data)
	if err != nil {
		return err
	}
	s.cfg.Outbox.Post(msg, "mail", purpose, "user_id", user.ID)
	return nil
}

func newToken() string {
	b := make([]byte, tokenBytes)
	_, _ = rand.Read(b) // never fails since Go 1.24
	return base64.RawURLEncoding.EncodeToString(b)
}

// validity says a lifetime the way a person reads it in a mail.
func validity(d time.Duration) string {
	switch {
	case d%time.Hour == 0 && d > time.Hour:
		return fmt.Sprintf("%d hours", d/time.Hour)
	case d == time.Hour:
		return "1 hour"
	case d%time.Minute == 0 && d > time.Minute:
		return fmt.Sprintf("%d minutes", d/time.Minute)
	default:
		return d.String()
	}
}
