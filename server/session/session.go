package session

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/server/secret"
	"github.com/gatehouse/gatehouse/server/source"
	"github.com/gatehouse/gatehouse/storage"
)

// Config configures a Manager.
type Config struct {
	Store storage.Store
	// Cookies seals cookie values (secret.PurposeCookie).
	Cookies *secret.AEAD
	// Secure marks cookies Secure and gives them the __Host- prefix (https issuer).
	Secure bool
	// Idle and Absolute bound a browser session; Pending bounds a pending
	// authorization request.
	Idle, Absolute, Pending time.Duration
	Now                     func() time.Time
}

// Manager reads and writes browser sessions and pending authorization requests.
type Manager struct {
	cfg         Config
	sessionName string
	flowName    string
	deviceName  string
}

// maxUserAgent bounds the user agent kept with a sign-in.
const maxUserAgent = 200

// touchEvery limits how often a session's last-seen time is written.
const touchEvery = time.Minute

// NewManager returns a Manager for cfg.
func NewManager(cfg Config) *Manager {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	m := &Manager{cfg: cfg, sessionName: "gh_session", flowName: "gh_flow", deviceName: "gh_device"}
	if cfg.Secure {
		m.sessionName = "__Host-gh_session"
		m.flowName = "__Host-gh_flow"
		m.deviceName = "__Host-gh_device"
	}
	return m
}

func (m *Manager) now() time.Time { return m.cfg.Now().UTC() }

// Key is the storage id of the browser session r's cookie names, whether
// or not it is valid, or "" without a cookie (Current, SignIn and SignOut
// look the session up by it; the authorization endpoint prefetches its
// session with its user and consent, storage.Prefetch.BrowserSession).
func (m *Manager) Key(r *http.Request) string {
	token, ok := m.readCookie(r, m.sessionName)
	if !ok {
		return ""
	}
	return Digest(token)
}

// Current returns the browser's valid session, or nil when it has none. The
// error is reserved for storage failures.
func (m *Manager) Current(ctx context.Context, r *http.Request) (*storage.BrowserSession, error) {
	id := m.Key(r)
	if id == "" {
		return nil, nil
	}
	s, err := m.cfg.Store.FindBrowserSession(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load browser session: %w", err)
	}
	now := m.now()
	if !now.Before(s.ExpiresAt) || !now.Before(s.LastSeenAt.Add(m.cfg.Idle)) {
		return nil, nil
	}
	if now.Sub(s.LastSeenAt) >= touchEvery {
		err := m.cfg.Store.UpdateBrowserSession(ctx, id, func(s *storage.BrowserSession) error {
			s.LastSeenAt = now
			return nil
		})
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			return nil, fmt.Errorf("touch browser session: %w", err)
		}
		s.LastSeenAt = now
	}
	return s, nil
}

// SignIn starts a new session for userID, replacing the browser's previous
// one (the session id is regenerated at every login).
func (m *Manager) SignIn(ctx context.Context, w http.ResponseWriter, r *http.Request, userID string, amr []string) (*storage.BrowserSession, error) {
	if old := m.Key(r); old != "" {
		if err := m.cfg.Store.DeleteBrowserSession(ctx, old); err != nil && !errors.Is(err, storage.ErrNotFound) {
			return nil, fmt.Errorf("end previous browser session: %w", err)
		}
	}
	token := randomToken()
	now := m.now()
	s := &storage.BrowserSession{
		ID:         Digest(token),
		SID:        randomToken(),
		UserID:     userID,
		AuthTime:   now,
		AMR:        amr,
		CreatedAt:  now,
		LastSeenAt: now,
		ExpiresAt:  now.Add(m.cfg.Absolute),
	}
	if err := m.cfg.Store.CreateBrowserSession(ctx, s); err != nil {
		return nil, fmt.Errorf("create browser session: %w", err)
	}
	ua := r.UserAgent()
	if len(ua) > maxUserAgent {
		ua = ua[:maxUserAgent]
	}
	// PostgreSQL text takes neither NUL nor invalid UTF-8.
	ua = strings.ToValidUTF8(strings.ReplaceAll(ua, "\x00", ""), "")
	event := &storage.SignInEvent{UserID: userID, At: now, Address: source.Addr(ctx), UserAgent: ua, Methods: amr}
	if err := m.cfg.Store.RecordSignIn(ctx, event); err != nil {
		return nil, fmt.Errorf("record sign-in: %w", err)
	}
	m.writeCookie(w, m.sessionName, token, m.cfg.Absolute)
	// A completed sign-in: this browser now vouches for the account in the
	// lockout policy.
	m.RememberDevice(w, r, userID)
	return s, nil
}

// SignOut ends the browser's session, if any, and clears its cookie.
func (m *Manager) SignOut(ctx context.Context, w http.ResponseWriter, r *http.Request) error {
	m.clearCookie(w, m.sessionName)
	id := m.Key(r)
	if id == "" {
		return nil
	}
	if err := m.cfg.Store.DeleteBrowserSession(ctx, id); err != nil && !errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("end browser session: %w", err)
	}
	return nil
}

// BeginAuthRequest stores a pending authorization request bound to this
// browser (through the flow cookie, set here when missing).
func (m *Manager) BeginAuthRequest(ctx context.Context, w http.ResponseWriter, r *http.Request, ar *storage.AuthRequest) error {
	binding, ok := m.readCookie(r, m.flowName)
	if !ok {
		binding = randomToken()
	}
	// Refreshed on every request so that the cookie outlives the request.
	m.writeCookie(w, m.flowName, binding, m.cfg.Pending+time.Hour)
	now := m.now()
	ar.ID = randomToken()
	ar.BindingDigest = Digest(binding)
	ar.CreatedAt = now
	ar.ExpiresAt = now.Add(m.cfg.Pending)
	if err := m.cfg.Store.CreateAuthRequest(ctx, ar); err != nil {
		return fmt.Errorf("create auth request: %w", err)
	}
	return nil
}

// LoadAuthRequest returns the pending request id if it exists, has not
// expired and belongs to this browser; otherwise storage.ErrNotFound.
func (m *Manager) LoadAuthRequest(ctx context.Context, r *http.Request, id string) (*storage.AuthRequest, error) {
	binding, ok := m.readCookie(r, m.flowName)
	if !ok || id == "" {
		return nil, storage.ErrNotFound
	}
	ar, err := m.cfg.Store.FindAuthRequest(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("load auth request: %w", err)
	}
	if subtle.ConstantTimeCompare([]byte(ar.BindingDigest), []byte(Digest(binding))) != 1 || !m.now().Before(ar.ExpiresAt) {
		return nil, storage.ErrNotFound
	}
	return ar, nil
}

// Digest is the storage key of a cookie token.
func Digest(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand never fails on supported platforms
	return base64.RawURLEncoding.EncodeToString(b)
}

func (m *Manager) readCookie(r *http.Request, name string) (string, bool) {
	c, err := r.Cookie(name)
	if err != nil || c.Value == "" {
		return "", false
	}
	sealed, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil {
		return "", false
	}
	token, err := m.cfg.Cookies.Open(sealed, []byte(name))
	if err != nil {
		return "", false
	}
	return string(token), true
}

func (m *Manager) writeCookie(w http.ResponseWriter, name, token string, maxAge time.Duration) {
	sealed, err := m.cfg.Cookies.Seal([]byte(token), []byte(name))
	if err != nil {
		// Sealing only fails if the system's randomness fails; no cookie then.
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name:     name,
		Value:    base64.RawURLEncoding.EncodeToString(sealed),
		Path:     "/",
		MaxAge:   int(maxAge.Seconds()),
		HttpOnly: true,
		Secure:   m.cfg.Secure,
		SameSite: http.SameSiteLaxMode,
	})
}

func (m *Manager) clearCookie(w http.ResponseWriter, name string) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: m.cfg.Secure, SameSite: http.SameSiteLaxMode,
	})
}
