package ui

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/gatehouse/gatehouse/server/metrics"
	"github.com/gatehouse/gatehouse/server/mfa"
	"github.com/gatehouse/gatehouse/server/policy"
	"github.com/gatehouse/gatehouse/storage"
)

// Paths of the second-factor and account pages; the templates name them too.
const (
	SecondFactorPath    = "/login/second-factor"
	EnrollPath          = "/login/enroll"
	AccountPath         = "/account"
	AccountSignInPath   = "/account/signin"
	AccountVerifyPath   = "/account/verify"
	AccountReauthPath   = "/account/reauth"
	AccountTOTPPath     = "/account/totp"
	AccountDisablePath  = "/account/totp/disable"
	AccountRecoveryPath = "/account/recovery-codes"
)

// secondFactorAfterPassword is the login page's step for a user with an
// authenticator app: the browser is not signed in on the password alone.
// The password is recorded in the pending request (which now expires one
// pending-login lifetime from now) and the dispatcher sends the browser on
// to the second-factor page. It reports whether it answered.
func (h *Handlers) secondFactorAfterPassword(w http.ResponseWriter, r *http.Request, ar *storage.AuthRequest, user *storage.User) bool {
	ctx := r.Context()
	enrolled, err := h.cfg.MFA.Enrolled(ctx, user.ID)
	if err != nil {
		h.storageFailure(w, r, err)
		return true
	}
	if !enrolled {
		return false
	}
	// Whoever was signed in here is not any more: a half-finished login
	// must not leave an older session behind it.
	if err := h.cfg.Sessions.SignOut(ctx, w, r); err != nil {
		h.storageFailure(w, r, err)
		return true
	}
	expires := h.cfg.Sessions.PendingLoginExpiry()
	err = h.cfg.Store.UpdateAuthRequest(ctx, ar.ID, func(a *storage.AuthRequest) error {
		a.UserID, a.AuthTime, a.AMR = user.ID, h.cfg.Now().UTC(), []string{policy.AMRPassword}
		a.ExpiresAt = expires
		return nil
	})
	if err != nil {
		h.storageFailure(w, r, err)
		return true
	}
	h.cfg.Logger.InfoContext(ctx, "password accepted, second factor due", "user_id", user.ID, "client_id", ar.ClientID)
	h.resume(w, r, ar.ID, nil)
	return true
}

// secondFactorRequest loads the pending request of the second-factor page:
// either its user proved their password for it and is not signed in yet, or
// their session (in this browser) is being stepped up. bs is the session to
// step up, nil for a fresh sign-in. false means a page was written.
func (h *Handlers) secondFactorRequest(w http.ResponseWriter, r *http.Request) (*storage.AuthRequest, *storage.User, *storage.BrowserSession, bool) {
	ar, ok := h.loadRequest(w, r)
	if !ok {
		return nil, nil, nil, false
	}
	ctx := r.Context()
	bs, err := h.cfg.Sessions.Current(ctx, r)
	if err != nil {
		h.storageFailure(w, r, err)
		return nil, nil, nil, false
	}
	if bs != nil && bs.UserID != ar.UserID {
		bs = nil
	}
	fresh := bs == nil && slices.Contains(ar.AMR, policy.AMRPassword) && !policy.HasSecondFactor(ar.AMR) &&
		policy.PasswordIsRecent(ar.AuthTime, h.cfg.Now())
	user, err := h.activeUser(ctx, ar.UserID)
	if err != nil {
		h.storageFailure(w, r, err)
		return nil, nil, nil, false
	}
	if ar.UserID == "" || user == nil || (bs == nil && !fresh) {
		h.cfg.Pages.Error(w, r, http.StatusBadRequest, msgExpiredTitle, msgExpired)
		return nil, nil, nil, false
	}
	return ar, user, bs, true
}

// activeUser loads a user; nil when deleted or disabled.
func (h *Handlers) activeUser(ctx context.Context, id string) (*storage.User, error) {
	if id == "" {
		return nil, nil
	}
	u, err := h.cfg.Store.FindUser(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if u.Disabled {
		return nil, nil
	}
	return u, nil
}

// secondFactorForm is what the second-factor page shows.
type secondFactorForm struct {
	action, requestID, clientName, username string
}

func (h *Handlers) renderSecondFactor(w http.ResponseWriter, r *http.Request, status int, f secondFactorForm, errMsg string) {
	h.cfg.Pages.render(w, r, status, "second_factor", map[string]any{
		"Action":     f.action,
		"RequestID":  f.requestID,
		"ClientName": f.clientName,
		"Username":   f.username,
		"Error":      errMsg,
	})
}

// SecondFactorPage asks for a code from the authenticator app (or a
// recovery code) during an authorization.
func (h *Handlers) SecondFactorPage(w http.ResponseWriter, r *http.Request) {
	ar, user, _, ok := h.secondFactorRequest(w, r)
	if !ok {
		return
	}
	h.renderSecondFactor(w, r, http.StatusOK, h.authorizeForm(r.Context(), ar, user), "")
}

func (h *Handlers) authorizeForm(ctx context.Context, ar *storage.AuthRequest, user *storage.User) secondFactorForm {
	return secondFactorForm{action: SecondFactorPath, requestID: ar.ID, clientName: h.clientName(ctx, ar.ClientID), username: user.Username}
}

// SecondFactor checks the code, signs the browser in (or steps its session
// up) and resumes the authorization.
func (h *Handlers) SecondFactor(w http.ResponseWriter, r *http.Request) {
	if !h.parseForm(w, r) {
		return
	}
	ar, user, bs, ok := h.secondFactorRequest(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	form := h.authorizeForm(ctx, ar, user)
	method, ok := h.verifySecondFactor(w, r, user, func(status int, msg string) {
		h.renderSecondFactor(w, r, status, form, msg)
	})
	if !ok {
		return
	}
	base := ar.AMR
	if bs != nil {
		base = bs.AMR
	}
	bs, err := h.finishSecondFactor(w, r, user, bs, base, method)
	if err == nil {
		err = h.cfg.Store.UpdateAuthRequest(ctx, ar.ID, func(a *storage.AuthRequest) error {
			a.UserID, a.AuthTime, a.AMR = user.ID, bs.AuthTime, bs.AMR
			return nil
		})
	}
	if err != nil {
		h.storageFailure(w, r, err)
		return
	}
	h.resume(w, r, ar.ID, nil)
}

// verifySecondFactor checks the submitted code for user; when the code is
// refused it calls rerender with a status and the reason, and returns false.
func (h *Handlers) verifySecondFactor(w http.ResponseWriter, r *http.Request, user *storage.User, rerender func(status int, msg string)) (mfa.Method, bool) {
	ctx := r.Context()
	method, err := h.cfg.MFA.Verify(ctx, user.ID, r.PostFormValue("code"))
	h.cfg.Metrics.MFA(mfaOutcome(err))
	if err == nil {
		h.cfg.Logger.InfoContext(ctx, "second factor verified", "user_id", user.ID, "method", string(method))
		return method, true
	}
	status, msg, ok := secondFactorFailure(w, err, h.cfg.Now())
	if !ok {
		if errors.Is(err, mfa.ErrNotEnrolled) {
			h.cfg.Pages.Error(w, r, http.StatusBadRequest, msgExpiredTitle, msgExpired)
		} else {
			h.storageFailure(w, r, err)
		}
		return "", false
	}
	h.cfg.Logger.InfoContext(ctx, "second factor failed", "user_id", user.ID, "reason", err.Error())
	rerender(status, msg)
	return "", false
}

// secondFactorFailure turns a refused code into a status and a message for
// the person; false for errors that are not about the code.
func secondFactorFailure(w http.ResponseWriter, err error, now time.Time) (int, string, bool) {
	var locked *mfa.LockedError
	switch {
	case errors.As(err, &locked):
		wait := max(locked.Until.Sub(now), time.Second)
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Round(time.Second).Seconds())))
		return http.StatusTooManyRequests, fmt.Sprintf("Too many incorrect codes. Try again in %s.", humanDuration(wait)), true
	case errors.Is(err, mfa.ErrCodeUsed):
		return http.StatusUnauthorized, "That code was already used. Wait for the next code in your app.", true
	case errors.Is(err, mfa.ErrInvalidCode):
		return http.StatusUnauthorized, "That code is not right. Check your authenticator app and try again.", true
	}
	return 0, "", false
}

// mfaOutcome names a second-factor result for the metrics ("" for errors
// that are not about the code, which are not counted).
func mfaOutcome(err error) string {
	var locked *mfa.LockedError
	switch {
	case err == nil:
		return metrics.MFASuccess
	case errors.As(err, &locked):
		return metrics.MFALocked
	case errors.Is(err, mfa.ErrCodeUsed):
		return metrics.MFAReused
	case errors.Is(err, mfa.ErrInvalidCode):
		return metrics.MFAInvalid
	}
	return ""
}

// humanDuration rounds a wait up to whole minutes (or seconds under one).
func humanDuration(d time.Duration) string {
	if d < time.Minute {
		s := int((d + time.Second - 1) / time.Second)
		return plural(s, "second")
	}
	return plural(int((d+time.Minute-1)/time.Minute), "minute")
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}

// finishSecondFactor records a verified second factor: it steps the
// session bs up or, when there is none, signs the browser in.
func (h *Handlers) finishSecondFactor(w http.ResponseWriter, r *http.Request, user *storage.User, bs *storage.BrowserSession, base []string, method mfa.Method) (*storage.BrowserSession, error) {
	amr := policy.WithSecondFactor(base, method == mfa.MethodRecoveryCode)
	if bs != nil {
		return h.cfg.Sessions.Elevate(r.Context(), w, bs, amr)
	}
	return h.cfg.Sessions.SignIn(r.Context(), w, r, user.ID, amr)
}
