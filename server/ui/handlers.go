package ui

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/server/credential"
	"github.com/gatehouse/gatehouse/server/manage"
	"github.com/gatehouse/gatehouse/server/metrics"
	"github.com/gatehouse/gatehouse/server/mfa"
	"github.com/gatehouse/gatehouse/server/policy"
	"github.com/gatehouse/gatehouse/server/recovery"
	"github.com/gatehouse/gatehouse/server/session"
	"github.com/gatehouse/gatehouse/server/source"
	"github.com/gatehouse/gatehouse/server/throttle"
	"github.com/gatehouse/gatehouse/storage"
)

// Config wires the page handlers.
type Config struct {
	Store     storage.Store
	Sessions  *session.Manager
	Passwords *credential.Passwords
	Pages     *Pages
	Logger    *slog.Logger
	// ResumePath is where a finished step sends the browser, with ?ar=ID.
	ResumePath string
	// ConsentLifetime is how long a granted consent is remembered.
	ConsentLifetime time.Duration
	// MFA enrolls and verifies second factors.
	MFA *mfa.Service
	// Limiter applies the sign-in lockout policy.
	Limiter *throttle.Limiter
	// Manage changes passwords, profiles and connected apps.
	Manage *manage.Service
	// Recovery mails email-verification links; nil when mail is off.
	Recovery *recovery.Service
	// Metrics counts sign-in and second-factor outcomes; nil counts nothing.
	Metrics *metrics.Metrics
	Now     func() time.Time
}

// Handlers serves the login, consent and logout pages.
type Handlers struct {
	cfg Config
}

// maxFormBytes bounds every form body.
const maxFormBytes = 64 << 10

// New returns the page handlers.
func New(cfg Config) *Handlers {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Handlers{cfg: cfg}
}

const (
	msgExpiredTitle = "This sign-in link has expired"
	msgExpired      = "Your sign-in request is no longer valid. Go back to the app and start again."
	msgBadLogin     = "Incorrect username or password."
)

// parseForm parses a bounded form body; false means a page was written.
func (h *Handlers) parseForm(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		h.cfg.Pages.Error(w, r, http.StatusBadRequest, "Bad request", "The form could not be read. Please try again.")
		return false
	}
	return true
}

// loadRequest loads the pending request named by the ar parameter; false
// means a page was written.
func (h *Handlers) loadRequest(w http.ResponseWriter, r *http.Request) (*storage.AuthRequest, bool) {
	ar, err := h.cfg.Sessions.LoadAuthRequest(r.Context(), r, r.FormValue("ar"))
	switch {
	case err == nil:
		return ar, true
	case errors.Is(err, storage.ErrNotFound):
		h.cfg.Pages.Error(w, r, http.StatusBadRequest, msgExpiredTitle, msgExpired)
	default:
		h.storageFailure(w, r, err)
	}
	return nil, false
}

func (h *Handlers) storageFailure(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, session.ErrSessionChanged) {
		h.cfg.Pages.Error(w, r, http.StatusConflict, "Already done in another window",
			"You finished this step in another tab or window. Go back to the app, or reload the page there.")
		return
	}
	if errors.Is(err, storage.ErrUnavailable) || errors.Is(err, credential.ErrBusy) {
		h.cfg.Logger.WarnContext(r.Context(), "page unavailable", "path", r.URL.Path, "err", err)
		h.cfg.Pages.Unavailable(w, r)
		return
	}
	h.cfg.Pages.Internal(w, r, err)
}

func (h *Handlers) resume(w http.ResponseWriter, r *http.Request, id string, extra url.Values) {
	q := url.Values{"ar": {id}}
	for k, v := range extra {
		q[k] = v
	}
	http.Redirect(w, r, h.cfg.ResumePath+"?"+q.Encode(), http.StatusSeeOther)
}

func (h *Handlers) clientName(ctx context.Context, clientID string) string {
	c, err := h.cfg.Store.FindClient(ctx, clientID)
	if err != nil {
		return ""
	}
	return c.Name
}

// LoginPage shows the login form of a pending request.
func (h *Handlers) LoginPage(w http.ResponseWriter, r *http.Request) {
	ar, ok := h.loadRequest(w, r)
	if !ok {
		return
	}
	query, _ := url.ParseQuery(ar.Query)
	h.renderLogin(w, r, http.StatusOK, ar, query.Get("login_hint"), "")
}

func (h *Handlers) renderLogin(w http.ResponseWriter, r *http.Request, status int, ar *storage.AuthRequest, username, errMsg string) {
	h.cfg.Pages.render(w, r, status, "login", map[string]any{
		"RequestID":  ar.ID,
		"ClientName": h.clientName(r.Context(), ar.ClientID),
		"Username":   username,
		"Error":      errMsg,
	})
}

// Login checks the password and signs the browser in.
func (h *Handlers) Login(w http.ResponseWriter, r *http.Request) {
	if !h.parseForm(w, r) {
		return
	}
	ar, ok := h.loadRequest(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	username := r.PostFormValue("username")
	password := r.PostFormValue("password")
	user, err := h.checkPassword(ctx, r, username, password)
	h.countSignIn(err)
	if errors.Is(err, errBadCredentials) {
		h.cfg.Logger.InfoContext(ctx, "login failed", "client_id", ar.ClientID)
		h.renderLogin(w, r, http.StatusUnauthorized, ar, username, msgBadLogin)
		return
	}
	if msg, locked := lockedMessage(err, h.cfg.Now()); locked {
		h.renderLogin(w, r, http.StatusTooManyRequests, ar, username, msg)
		return
	}
	if err != nil {
		h.storageFailure(w, r, err)
		return
	}
	if h.secondFactorAfterPassword(w, r, ar, user) {
		return
	}
	amr := []string{"pwd"}
	bs, err := h.cfg.Sessions.SignIn(ctx, w, r, user.ID, amr)
	if err != nil {
		h.storageFailure(w, r, err)
		return
	}
	err = h.cfg.Store.UpdateAuthRequest(ctx, ar.ID, func(a *storage.AuthRequest) error {
		a.UserID = user.ID
		a.AuthTime = bs.AuthTime
		a.AMR = amr
		return nil
	})
	if err != nil {
		h.storageFailure(w, r, err)
		return
	}
	h.cfg.Logger.InfoContext(ctx, "login succeeded", "user_id", user.ID, "client_id", ar.ClientID)
	h.resume(w, r, ar.ID, nil)
}

var errBadCredentials = errors.New("bad credentials")

// countSignIn counts the outcome of a sign-in's password check (errors
// that are not about the person's attempt are not counted).
func (h *Handlers) countSignIn(err error) {
	var locked *throttle.LockedError
	switch {
	case err == nil:
		h.cfg.Metrics.Login(metrics.LoginSuccess)
	case errors.Is(err, errBadCredentials):
		h.cfg.Metrics.Login(metrics.LoginBadCredentials)
	case errors.As(err, &locked):
		h.cfg.Metrics.Login(metrics.LoginLocked)
	}
}

// checkPassword verifies username and password. Unknown users and disabled
// accounts cost the same hash as real ones and fail the same way.
//
// The lockout policy applies first (a *throttle.LockedError when locked):
// failures count per (account, source address), per address and per
// account, counted for unknown usernames exactly as for real ones; a
// browser carrying the account's device cookie is exempt.
func (h *Handlers) checkPassword(ctx context.Context, r *http.Request, username, password string) (*storage.User, error) {
	user, err := h.cfg.Store.FindUserByUsername(ctx, username)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return nil, err
	}
	attempt := throttle.Attempt{
		Kind:          throttle.KindPassword,
		Account:       storage.NormalizeIdentifier(username),
		Addr:          source.Addr(ctx),
		TrustedDevice: user != nil && h.cfg.Sessions.TrustedDevice(r, user.ID),
	}
	if err := h.cfg.Limiter.Check(ctx, attempt); err != nil {
		return nil, err
	}
	hash := ""
	if user != nil {
		hash = user.PasswordHash
	}
	ok, rehash, err := h.cfg.Passwords.Verify(ctx, hash, password)
	if err != nil {
		if errors.Is(err, credential.ErrBusy) {
			return nil, err
		}
		// A malformed stored hash is logged and treated as a failed login.
		h.cfg.Logger.ErrorContext(ctx, "verify password", "err", err)
		ok = false
	}
	if !ok || user == nil || user.Disabled {
		if err := h.cfg.Limiter.Failure(ctx, attempt); err != nil {
			return nil, err
		}
		return nil, errBadCredentials
	}
	if err := h.cfg.Limiter.Success(ctx, attempt); err != nil {
		return nil, err
	}
	if rehash {
		h.rehash(ctx, user.ID, password)
	}
	return user, nil
}

// lockedMessage tells a locked-out person when to try again.
func lockedMessage(err error, now time.Time) (string, bool) {
	var locked *throttle.LockedError
	if !errors.As(err, &locked) {
		return "", false
	}
	return fmt.Sprintf("Too many failed attempts. Try again after %s UTC (in %s).",
		locked.Until.UTC().Format("15:04:05"), humanDuration(locked.Until.Sub(now))), true
}

// rehash upgrades a password hash made with old parameters; failure only logs.
func (h *Handlers) rehash(ctx context.Context, userID, password string) {
	newHash, err := h.cfg.Passwords.Hash(ctx, password)
	if err == nil {
		err = h.cfg.Store.UpdateUser(ctx, userID, func(u *storage.User) error {
			u.PasswordHash = newHash
			return nil
		})
	}
	if err != nil {
		h.cfg.Logger.WarnContext(ctx, "rehash password", "user_id", userID, "err", err)
	}
}

// consentRequest loads a pending request whose user is signed in in this browser.
func (h *Handlers) consentRequest(w http.ResponseWriter, r *http.Request) (*storage.AuthRequest, *storage.User, bool) {
	ar, ok := h.loadRequest(w, r)
	if !ok {
		return nil, nil, false
	}
	bs, err := h.cfg.Sessions.Current(r.Context(), r)
	if err != nil {
		h.storageFailure(w, r, err)
		return nil, nil, false
	}
	if ar.UserID == "" || bs == nil || bs.UserID != ar.UserID {
		h.cfg.Pages.Error(w, r, http.StatusBadRequest, msgExpiredTitle, msgExpired)
		return nil, nil, false
	}
	user, err := h.cfg.Store.FindUser(r.Context(), ar.UserID)
	if err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			h.cfg.Pages.Error(w, r, http.StatusBadRequest, msgExpiredTitle, msgExpired)
		} else {
			h.storageFailure(w, r, err)
		}
		return nil, nil, false
	}
	return ar, user, true
}

// requestedScopes is the scope list of a pending request.
func requestedScopes(ar *storage.AuthRequest) []string {
	q, _ := url.ParseQuery(ar.Query)
	return strings.Fields(q.Get("scope"))
}

// grantable splits the request's scopes into those the user's roles allow
// (the only ones consent is asked and remembered for) and those withheld.
func (h *Handlers) grantable(ctx context.Context, ar *storage.AuthRequest) (granted, withheld []string, err error) {
	roles, err := h.cfg.Store.UserRoles(ctx, ar.UserID)
	if err != nil {
		return nil, nil, err
	}
	granted, withheld = policy.UserScopes(requestedScopes(ar), roles)
	return granted, withheld, nil
}

// ConsentPage asks the user to allow the client the requested scopes.
func (h *Handlers) ConsentPage(w http.ResponseWriter, r *http.Request) {
	ar, user, ok := h.consentRequest(w, r)
	if !ok {
		return
	}
	granted, withheld, err := h.grantable(r.Context(), ar)
	if err != nil {
		h.storageFailure(w, r, err)
		return
	}
	described := make([]ScopeDescription, 0, len(granted))
	for _, s := range granted {
		described = append(described, DescribeScope(s))
	}
	h.cfg.Pages.render(w, r, http.StatusOK, "consent", map[string]any{
		"RequestID":  ar.ID,
		"ClientName": h.clientName(r.Context(), ar.ClientID),
		"Username":   user.Username,
		"Scopes":     described,
		"Withheld":   withheld,
	})
}

// Consent records the user's decision and resumes the authorization.
func (h *Handlers) Consent(w http.ResponseWriter, r *http.Request) {
	if !h.parseForm(w, r) {
		return
	}
	ar, _, ok := h.consentRequest(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	switch r.PostFormValue("consent") {
	case "accept":
	case "reject":
		h.cfg.Logger.InfoContext(ctx, "consent rejected", "user_id", ar.UserID, "client_id", ar.ClientID)
		h.resume(w, r, ar.ID, url.Values{"consent": {"denied"}})
		return
	default:
		h.cfg.Pages.Error(w, r, http.StatusBadRequest, "Bad request", "Choose Allow or Deny.")
		return
	}
	now := h.cfg.Now().UTC()
	scopes, _, err := h.grantable(ctx, ar)
	if err != nil {
		h.storageFailure(w, r, err)
		return
	}
	prev, err := h.cfg.Store.FindConsent(ctx, ar.UserID, ar.ClientID)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		h.storageFailure(w, r, err)
		return
	}
	if prev != nil {
		for _, s := range prev.Scopes {
			if !slices.Contains(scopes, s) {
				scopes = append(scopes, s)
			}
		}
	}
	err = h.cfg.Store.SaveConsent(ctx, &storage.Consent{
		UserID: ar.UserID, ClientID: ar.ClientID, Scopes: scopes,
		GrantedAt: now, ExpiresAt: now.Add(h.cfg.ConsentLifetime),
	})
	if err == nil {
		err = h.cfg.Store.UpdateAuthRequest(ctx, ar.ID, func(a *storage.AuthRequest) error {
			a.ConsentGiven = true
			return nil
		})
	}
	if err != nil {
		h.storageFailure(w, r, err)
		return
	}
	h.cfg.Logger.InfoContext(ctx, "consent granted", "user_id", ar.UserID, "client_id", ar.ClientID)
	h.resume(w, r, ar.ID, nil)
}
