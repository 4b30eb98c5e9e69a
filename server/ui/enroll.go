package ui

import (
	"encoding/base64"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"github.com/gatehouse/gatehouse/server/mfa"
	"github.com/gatehouse/gatehouse/server/policy"
	"github.com/gatehouse/gatehouse/storage"
)

// Enrollment of an authenticator app: inside an authorization, when the
// user must use a second factor but has none (EnrollPage, Enroll), and from
// the account pages (AccountTOTPPage, AccountTOTP). Both need a password
// proven within policy.RecentPassword.

// enrollForm is where the enrollment form posts and what it carries.
type enrollForm struct {
	action, requestID, clientName string
	required                      bool
}

// renderEnrollment shows the user's pending enrollment (starting one when
// needed) with the QR code, the secret and the otpauth URI.
func (h *Handlers) renderEnrollment(w http.ResponseWriter, r *http.Request, status int, user *storage.User, f enrollForm, errMsg string) (*mfa.Enrollment, bool) {
	e, err := h.cfg.MFA.StartEnrollment(r.Context(), user)
	if err != nil {
		h.storageFailure(w, r, err)
		return nil, false
	}
	h.cfg.Pages.render(w, r, status, "totp_enroll", map[string]any{
		"Action":     f.action,
		"RequestID":  f.requestID,
		"ClientName": f.clientName,
		"Required":   f.required,
		"Username":   user.Username,
		// Generated here from our own bytes: a data: URL is safe in src.
		"QRCode":    template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(e.QRCode)),
		"Secret":    groupSecret(e.Secret),
		"URI":       e.URI,
		"ExpiresIn": humanDuration(e.ExpiresAt.Sub(h.cfg.Now())),
		"Error":     errMsg,
	})
	return e, true
}

// groupSecret writes a base32 secret in groups of four, easier to type.
func groupSecret(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i += 4 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(s[i:min(i+4, len(s))])
	}
	return b.String()
}

// confirmEnrollment activates the pending enrollment with the submitted
// code; on a wrong or late code it shows the enrollment again and returns
// nil. mfa.ErrAlreadyEnrolled is returned for the caller to handle.
func (h *Handlers) confirmEnrollment(w http.ResponseWriter, r *http.Request, user *storage.User, f enrollForm) ([]string, error) {
	ctx := r.Context()
	codes, err := h.cfg.MFA.ConfirmEnrollment(ctx, user, r.PostFormValue("code"))
	switch {
	case err == nil:
		h.cfg.Logger.InfoContext(ctx, "authenticator app enrolled", "user_id", user.ID)
		return codes, nil
	case errors.Is(err, mfa.ErrInvalidCode):
		h.renderEnrollment(w, r, http.StatusUnprocessableEntity, user, f, "That code is not right. Check that the app shows the account you just added, and enter its current code.")
	case errors.Is(err, mfa.ErrNoEnrollment):
		h.renderEnrollment(w, r, http.StatusUnprocessableEntity, user, f, "This setup expired. Remove the old entry from your app, then scan this new code.")
	case errors.Is(err, mfa.ErrAlreadyEnrolled):
		return nil, err
	default:
		h.storageFailure(w, r, err)
	}
	return nil, nil
}

func (h *Handlers) renderRecoveryCodes(w http.ResponseWriter, r *http.Request, codes []string, enabled bool, continueURL string) {
	h.cfg.Pages.render(w, r, http.StatusOK, "recovery_codes", map[string]any{
		"Codes":       codes,
		"Enabled":     enabled,
		"ContinueURL": continueURL,
	})
}

// enrollRequest loads the pending request of the in-flow enrollment page.
// Its user must be signed in here with a recent password and have no
// authenticator app; otherwise the dispatcher decides again. false means a
// page was written.
func (h *Handlers) enrollRequest(w http.ResponseWriter, r *http.Request) (*storage.AuthRequest, *storage.User, *storage.BrowserSession, bool) {
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
	if bs == nil || ar.UserID == "" || bs.UserID != ar.UserID {
		h.cfg.Pages.Error(w, r, http.StatusBadRequest, msgExpiredTitle, msgExpired)
		return nil, nil, nil, false
	}
	user, err := h.activeUser(ctx, ar.UserID)
	var enrolled bool
	if err == nil && user != nil {
		enrolled, err = h.cfg.MFA.Enrolled(ctx, user.ID)
	}
	switch {
	case err != nil:
		h.storageFailure(w, r, err)
	case user == nil:
		h.cfg.Pages.Error(w, r, http.StatusBadRequest, msgExpiredTitle, msgExpired)
	case enrolled || !policy.PasswordIsRecent(bs.AuthTime, h.cfg.Now()):
		h.resume(w, r, ar.ID, nil)
	default:
		return ar, user, bs, true
	}
	return nil, nil, nil, false
}

func (h *Handlers) loginEnrollForm(r *http.Request, ar *storage.AuthRequest) enrollForm {
	return enrollForm{action: EnrollPath, requestID: ar.ID, clientName: h.clientName(r.Context(), ar.ClientID), required: true}
}

// EnrollPage sets up an authenticator app for a user who must use a second
// factor and has none, inside the authorization.
func (h *Handlers) EnrollPage(w http.ResponseWriter, r *http.Request) {
	ar, user, _, ok := h.enrollRequest(w, r)
	if !ok {
		return
	}
	e, ok := h.renderEnrollment(w, r, http.StatusOK, user, h.loginEnrollForm(r, ar), "")
	if !ok {
		return
	}
	// Setting up an app takes longer than typing a password: the pending
	// request lives as long as the enrollment. Failure only shortens it.
	err := h.cfg.Store.UpdateAuthRequest(r.Context(), ar.ID, func(a *storage.AuthRequest) error {
		if e.ExpiresAt.After(a.ExpiresAt) {
			a.ExpiresAt = e.ExpiresAt
		}
		return nil
	})
	if err != nil {
		h.cfg.Logger.WarnContext(r.Context(), "extend auth request", "err", err)
	}
}

// Enroll confirms the in-flow enrollment, steps the session up and shows
// the recovery codes, which continue to the authorization.
func (h *Handlers) Enroll(w http.ResponseWriter, r *http.Request) {
	if !h.parseForm(w, r) {
		return
	}
	ar, user, bs, ok := h.enrollRequest(w, r)
	if !ok {
		return
	}
	codes, err := h.confirmEnrollment(w, r, user, h.loginEnrollForm(r, ar))
	if errors.Is(err, mfa.ErrAlreadyEnrolled) {
		h.resume(w, r, ar.ID, nil)
		return
	}
	if codes == nil {
		return
	}
	ctx := r.Context()
	bs, err = h.finishSecondFactor(w, r, user, bs, bs.AMR, mfa.MethodTOTP)
	if err == nil {
		err = h.cfg.Store.UpdateAuthRequest(ctx, ar.ID, func(a *storage.AuthRequest) error {
			a.AuthTime, a.AMR = bs.AuthTime, bs.AMR
			return nil
		})
	}
	if err != nil {
		h.storageFailure(w, r, err)
		return
	}
	h.renderRecoveryCodes(w, r, codes, true, h.cfg.ResumePath+"?"+url.Values{"ar": {ar.ID}}.Encode())
}

// AccountTOTPPage shows the enrollment of an authenticator app from the
// account pages.
func (h *Handlers) AccountTOTPPage(w http.ResponseWriter, r *http.Request) {
	user, _, ok := h.accountEnrollment(w, r)
	if !ok {
		return
	}
	h.renderEnrollment(w, r, http.StatusOK, user, enrollForm{action: AccountTOTPPath}, "")
}

// AccountTOTP confirms the enrollment and shows the recovery codes.
func (h *Handlers) AccountTOTP(w http.ResponseWriter, r *http.Request) {
	if !h.parseForm(w, r) {
		return
	}
	user, bs, ok := h.accountEnrollment(w, r)
	if !ok {
		return
	}
	codes, err := h.confirmEnrollment(w, r, user, enrollForm{action: AccountTOTPPath})
	if errors.Is(err, mfa.ErrAlreadyEnrolled) {
		http.Redirect(w, r, AccountPath, http.StatusSeeOther)
		return
	}
	if codes == nil {
		return
	}
	// The password and a fresh code were just proven: the session carries
	// the second factor from now on.
	if _, err := h.finishSecondFactor(w, r, user, bs, bs.AMR, mfa.MethodTOTP); err != nil {
		h.storageFailure(w, r, err)
		return
	}
	h.renderRecoveryCodes(w, r, codes, true, AccountPath)
}

// accountEnrollment checks the account enrollment pages' preconditions: a
// signed-in user without an authenticator app and a recent password.
func (h *Handlers) accountEnrollment(w http.ResponseWriter, r *http.Request) (*storage.User, *storage.BrowserSession, bool) {
	a, ok := h.accountSession(w, r)
	if !ok {
		return nil, nil, false
	}
	if a.enrolled {
		http.Redirect(w, r, AccountPath, http.StatusSeeOther)
		return nil, nil, false
	}
	if !h.requireRecentPassword(w, r, a.session, AccountTOTPPath) {
		return nil, nil, false
	}
	return a.user, a.session, true
}
