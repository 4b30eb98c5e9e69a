package session

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gatehouse/gatehouse/storage"
)

// ErrSessionChanged means the browser session changed under a request (it
// was stepped up in another tab at the same moment).
var ErrSessionChanged = errors.New("session: the browser session changed meanwhile")

// Elevate records a second factor on the browser's session bs. Its
// privileges change, so it gets a new id and cookie; it keeps its sid,
// auth_time and absolute expiry, and carries amr from now on.
func (m *Manager) Elevate(ctx context.Context, w http.ResponseWriter, bs *storage.BrowserSession, amr []string) (*storage.BrowserSession, error) {
	token := randomToken()
	next := *bs
	next.ID = Digest(token)
	next.AMR = amr
	next.LastSeenAt = m.now()
	err := storage.InTx(ctx, m.cfg.Store, func(ctx context.Context) error {
		// Deleted first: sid is unique.
		if err := m.cfg.Store.DeleteBrowserSession(ctx, bs.ID); err != nil {
			return err
		}
		if err := m.cfg.Store.CreateBrowserSession(ctx, &next); err != nil {
			if errors.Is(err, storage.ErrAlreadyExists) {
				// Another request (a second tab) elevated this session first:
				// its sid is taken by the new row.
				return ErrSessionChanged
			}
			return err
		}
		return nil
	})
	if errors.Is(err, ErrSessionChanged) {
		return nil, ErrSessionChanged
	}
	if err != nil {
		return nil, fmt.Errorf("elevate browser session: %w", err)
	}
	m.writeCookie(w, m.sessionName, token, next.ExpiresAt.Sub(m.now()))
	return &next, nil
}

// ConfirmPassword records that the user of bs has just proved their password
// again (the re-prompt before sensitive account changes): auth_time moves to
// now.
func (m *Manager) ConfirmPassword(ctx context.Context, bs *storage.BrowserSession) error {
	now := m.now()
	err := m.cfg.Store.UpdateBrowserSession(ctx, bs.ID, func(s *storage.BrowserSession) error {
		s.AuthTime = now
		return nil
	})
	if err != nil {
		return fmt.Errorf("confirm password: %w", err)
	}
	bs.AuthTime = now
	return nil
}

// PendingLoginExpiry is when a login step started now must be finished: the
// pending authorization request is extended to it when a password was just
// proven and a second factor is due.
func (m *Manager) PendingLoginExpiry() time.Time { return m.now().Add(m.cfg.Pending) }

// pendingSecondFactor is the sealed content of the second-factor cookie.
type pendingSecondFactor struct {
	UserID    string `json:"u"`
	ExpiresAt int64  `json:"x"`
}

// BeginSecondFactor remembers in this browser, for the pending-login
// lifetime, that userID proved their password and owes a second factor.
// It serves sign-ins without an authorization request (the account pages);
// the cookie is sealed and HttpOnly, so it can be neither read nor forged.
func (m *Manager) BeginSecondFactor(w http.ResponseWriter, userID string) {
	b, _ := json.Marshal(pendingSecondFactor{UserID: userID, ExpiresAt: m.PendingLoginExpiry().Unix()})
	m.writeCookie(w, m.secondFactorName(), string(b), m.cfg.Pending)
}

// PendingSecondFactor returns the user id of BeginSecondFactor unless the
// cookie is missing, tampered with or expired.
func (m *Manager) PendingSecondFactor(r *http.Request) (string, bool) {
	v, ok := m.readCookie(r, m.secondFactorName())
	if !ok {
		return "", false
	}
	var p pendingSecondFactor
	if err := json.Unmarshal([]byte(v), &p); err != nil || p.UserID == "" || !m.now().Before(time.Unix(p.ExpiresAt, 0)) {
		return "", false
	}
	return p.UserID, true
}

// EndSecondFactor forgets a pending second factor.
func (m *Manager) EndSecondFactor(w http.ResponseWriter) { m.clearCookie(w, m.secondFactorName()) }

func (m *Manager) secondFactorName() string {
	if m.cfg.Secure {
		return "__Host-gh_2fa"
	}
	return "gh_2fa"
}
