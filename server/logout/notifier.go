package logout

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/ory/fosite/token/jwt"

	"github.com/gatehouse/gatehouse/storage"
)

// EventBackchannelLogout is the event a logout token carries.
const EventBackchannelLogout = "http://schemas.openid.net/event/backchannel-logout"

// Config wires a Notifier.
type Config struct {
	Issuer  string
	Clients storage.Clients
	// Sessions tells which clients each session signed in to.
	Sessions storage.SessionClients
	Signer   jwt.Signer
	// HTTP is the guarded outbound client (outbound.NewClient).
	HTTP   *http.Client
	Logger *slog.Logger
	// Attempts bounds the deliveries of one token (default 3); Backoff is the
	// wait before the second attempt, doubled after each (default 1s).
	Attempts int
	Backoff  time.Duration
	// TokenLifetime bounds how long a logout token is valid (default 2 min).
	TokenLifetime time.Duration
}

// Notifier delivers logout tokens.
type Notifier struct {
	cfg      Config
	inflight sync.WaitGroup
}

// New returns a Notifier.
func New(cfg Config) *Notifier {
	if cfg.Attempts <= 0 {
		cfg.Attempts = 3
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = time.Second
	}
	if cfg.TokenLifetime <= 0 {
		cfg.TokenLifetime = 2 * time.Minute
	}
	return &Notifier{cfg: cfg}
}

// Notify tells each client that the user's session sid ended. It returns at
// once; deliveries continue in the background (see Wait).
func (n *Notifier) Notify(userID, sid string, clientIDs []string) {
	for _, id := range clientIDs {
		n.inflight.Add(1)
		go func() {
			defer n.inflight.Done()
			n.deliver(userID, sid, id)
		}()
	}
}

// Wait blocks until every delivery started so far has finished (for
// command-line use and tests, where the process would otherwise exit first).
func (n *Notifier) Wait() { n.inflight.Wait() }

func (n *Notifier) deliver(userID, sid, clientID string) {
	// Detached from any request: the person's request has long returned.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	log := n.cfg.Logger.With("client_id", clientID, "user_id", userID)
	client, err := n.cfg.Clients.FindClient(ctx, clientID)
	if errors.Is(err, storage.ErrNotFound) {
		return
	}
	if err != nil {
		log.WarnContext(ctx, "back-channel logout: load client", "err", err)
		return
	}
	if client.BackchannelLogoutURI == "" {
		return
	}
	token, err := n.token(ctx, userID, sid, clientID)
	if err != nil {
		log.ErrorContext(ctx, "back-channel logout: sign token", "err", err)
		return
	}
	wait := n.cfg.Backoff
	for attempt := 1; ; attempt++ {
		err = n.post(ctx, client.BackchannelLogoutURI, token)
		if err == nil {
			log.InfoContext(ctx, "back-channel logout delivered", "attempt", attempt)
			return
		}
		if attempt == n.cfg.Attempts {
			log.WarnContext(ctx, "back-channel logout failed", "attempts", attempt, "err", err)
			return
		}
		select {
		case <-time.After(wait):
			wait *= 2
		case <-ctx.Done():
			log.WarnContext(ctx, "back-channel logout gave up", "err", ctx.Err())
			return
		}
	}
}

// token builds a logout token (OpenID Connect Back-Channel Logout 1.0 §2.4):
// typ logout+jwt, the event, sub and sid, and never a nonce.
func (n *Notifier) token(ctx context.Context, userID, sid, clientID string) (string, error) {
	jti := make([]byte, 16)
	if _, err := rand.Read(jti); err != nil {
		return "", err
	}
	now := time.Now()
	claims := jwt.MapClaims{
		"iss":    n.cfg.Issuer,
		"aud":    []string{clientID},
		"iat":    now.Unix(),
		"exp":    now.Add(n.cfg.TokenLifetime).Unix(),
		"jti":    base64.RawURLEncoding.EncodeToString(jti),
		"events": map[string]any{EventBackchannelLogout: map[string]any{}},
		"sub":    userID,
		"sid":    sid,
	}
	token, _, err := n.cfg.Signer.Generate(ctx, claims, &jwt.Headers{Extra: map[string]interface{}{"typ": "logout+jwt"}})
	return token, err
}

func (n *Notifier) post(ctx context.Context, uri, token string) error {
	body := url.Values{"logout_token": {token}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, uri, strings.NewReader(body))
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := n.cfg.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	// §2.8: 200 (or 204) means the logout succeeded.
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("client answered %d", resp.StatusCode)
	}
	return nil
}

// EndSession notifies the clients of one ending browser session and forgets
// them. The caller deletes the session itself.
func (n *Notifier) EndSession(ctx context.Context, userID, sid string) error {
	ids, err := n.cfg.Sessions.SessionClients(ctx, sid)
	if err != nil {
		return fmt.Errorf("clients of session: %w", err)
	}
	if err := n.cfg.Sessions.ForgetSessionClients(ctx, sid); err != nil {
		return fmt.Errorf("forget clients of session: %w", err)
	}
	n.Notify(userID, sid, ids)
	return nil
}

// EndUserSessions is EndSession for every session of a user (sign out
// everywhere, disable, delete, password reset).
func (n *Notifier) EndUserSessions(ctx context.Context, userID string) error {
	return n.EndOtherSessions(ctx, userID, "")
}

// EndOtherSessions is EndUserSessions for every session but keepSID (a
// password change keeps the session it was made in).
func (n *Notifier) EndOtherSessions(ctx context.Context, userID, keepSID string) error {
	bySession, err := n.cfg.Sessions.UserSessionClients(ctx, userID)
	if err != nil {
		return fmt.Errorf("sessions of user %q: %w", userID, err)
	}
	for sid, ids := range bySession {
		if sid == keepSID {
			continue
		}
		if err := n.cfg.Sessions.ForgetSessionClients(ctx, sid); err != nil {
			return fmt.Errorf("forget clients of session: %w", err)
		}
		n.Notify(userID, sid, ids)
	}
	return nil
}
