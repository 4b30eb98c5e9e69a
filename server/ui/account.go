package ui

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"

	"github.com/gatehouse/gatehouse/server/mfa"
	"github.com/gatehouse/gatehouse/server/policy"
	"github.com/gatehouse/gatehouse/storage"
)

// The account pages: a profile summary and the security section (the
// second factor). They need a signed-in browser; a user with an
// authenticator app needs a session that used it. Changing the second
// factor needs a password checked within policy.RecentPassword, and turning
// it off or regenerating recovery codes a current code as well.

// account is the signed-in user of an account page.
type account struct {
	user     *storage.User
	session  *storage.BrowserSession
	enrolled bool
}

// accountSession loads the account pages' user. A browser without a session
// goes to the account sign-in; a session without the second factor of a
// user who has one goes to the code page. false means a page was written.
func (h *Handlers) accountSession(w http.ResponseWriter, r *http.Request) (account, bool) {
	ctx := r.Context()
	bs, err := h.cfg.Sessions.Current(ctx, r)
	var a account
	if err == nil && bs != nil {
		a.session = bs
		a.user, err = h.activeUser(ctx, bs.UserID)
	}
	if err == nil && a.user != nil {
		a.enrolled, err = h.cfg.MFA.Enrolled(ctx, a.user.ID)
	}
	switch {
	case err != nil:
		h.storageFailure(w, r, err)
	case a.user == nil:
		http.Redirect(w, r, AccountSignInPath, http.StatusSeeOther)
	case a.enrolled && !policy.HasSecondFactor(bs.AMR):
		http.Redirect(w, r, AccountVerifyPath, http.StatusSeeOther)
	default:
		return a, true
	}
	return account{}, false
}

// accountForm is accountSession for a form POST: the bounded form is parsed
// first. false means a page was written.
func (h *Handlers) accountForm(w http.ResponseWriter, r *http.Request) (account, bool) {
	if !h.parseForm(w, r) {
		return account{}, false
	}
	return h.accountSession(w, r)
}

// reauthTargets are the pages the password re-prompt may return to.
var reauthTargets = []string{AccountPath, AccountTOTPPath, AccountDisablePath, AccountRecoveryPath}

// requireRecentPassword sends the browser to the password re-prompt, which
// returns to next, unless the session's password was checked recently.
func (h *Handlers) requireRecentPassword(w http.ResponseWriter, r *http.Request, bs *storage.BrowserSession, next string) bool {
	if policy.PasswordIsRecent(bs.AuthTime, h.cfg.Now()) {
		return true
	}
	http.Redirect(w, r, AccountReauthPath+"?"+url.Values{"next": {next}}.Encode(), http.StatusSeeOther)
	return false
}

// notices are the messages a redirect to the account page may show.
var notices = map[string]string{
	"totp-off":         "Two-factor login is off. Your authenticator app and recovery codes no longer work.",
	"password-changed": "Your password is changed. Your other devices are signed out.",
	"profile-saved":    "Your profile is saved.",
	"email-sent":       "We sent a link to your new address. Your email changes when you open it.",
}

// Account shows the profile summary and the security section.
func (h *Handlers) Account(w http.ResponseWriter, r *http.Request) {
	a, ok := h.accountSession(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	status, err := h.cfg.MFA.Status(ctx, a.user.ID)
	var required bool
	if err == nil {
		required, err = h.mfaRequired(ctx, a.user)
	}
	if err != nil {
		h.storageFailure(w, r, err)
		return
	}
	signIns, err := h.signInActivity(r, a.user.ID)
	if err != nil {
		h.storageFailure(w, r, err)
		return
	}
	h.cfg.Pages.render(w, r, http.StatusOK, "account", map[string]any{
		"SignIns":   signIns,
		"User":      a.user,
		"MFA":       status,
		"Since":     status.Since.Format("2 January 2006"),
		"CodeCount": mfa.RecoveryCodeCount,
		"Required":  required,
		"Notice":    notices[r.URL.Query().Get("done")],
	})
}

func (h *Handlers) renderAccountSignIn(w http.ResponseWriter, r *http.Request, status int, username, errMsg string) {
	h.cfg.Pages.render(w, r, status, "account_signin", map[string]any{"Username": username, "Error": errMsg})
}

// AccountSignInPage signs a person in to the account pages (without an
// application).
func (h *Handlers) AccountSignInPage(w http.ResponseWriter, r *http.Request) {
	h.renderAccountSignIn(w, r, http.StatusOK, "", "")
}

// AccountSignIn checks the password; a user with an authenticator app
// continues to the code page, signed in only after it.
func (h *Handlers) AccountSignIn(w http.ResponseWriter, r *http.Request) {
	if !h.parseForm(w, r) {
		return
	}
	ctx := r.Context()
	username := r.PostFormValue("username")
	user, err := h.checkPassword(ctx, r, username, r.PostFormValue("password"))
	h.countSignIn(err)
	if errors.Is(err, errBadCredentials) {
		h.cfg.Logger.InfoContext(ctx, "account sign-in failed")
		h.renderAccountSignIn(w, r, http.StatusUnauthorized, username, msgBadLogin)
		return
	}
	if msg, locked := lockedMessage(err, h.cfg.Now()); locked {
		h.renderAccountSignIn(w, r, http.StatusTooManyRequests, username, msg)
		return
	}
	var enrolled bool
	if err == nil {
		enrolled, err = h.cfg.MFA.Enrolled(ctx, user.ID)
	}
	if err == nil {
		err = h.cfg.Sessions.SignOut(ctx, w, r)
	}
	if err != nil {
		h.storageFailure(w, r, err)
		return
	}
	if enrolled {
		h.cfg.Sessions.BeginSecondFactor(w, user.ID)
		h.cfg.Logger.InfoContext(ctx, "password accepted, second factor due", "user_id", user.ID)
		http.Redirect(w, r, AccountVerifyPath, http.StatusSeeOther)
		return
	}
	if _, err := h.cfg.Sessions.SignIn(ctx, w, r, user.ID, []string{policy.AMRPassword}); err != nil {
		h.storageFailure(w, r, err)
		return
	}
	h.cfg.Logger.InfoContext(ctx, "account sign-in succeeded", "user_id", user.ID)
	http.Redirect(w, r, AccountPath, http.StatusSeeOther)
}

// accountVerifySubject finds who owes a second factor on the account pages:
// the signed-in user whose session lacks it (step-up, bs set), or the user
// of a pending account sign-in (bs nil). false means a page was written.
func (h *Handlers) accountVerifySubject(w http.ResponseWriter, r *http.Request) (*storage.User, *storage.BrowserSession, bool) {
	ctx := r.Context()
	bs, err := h.cfg.Sessions.Current(ctx, r)
	if err != nil {
		h.storageFailure(w, r, err)
		return nil, nil, false
	}
	userID, pending := h.cfg.Sessions.PendingSecondFactor(r)
	if bs != nil {
		userID = bs.UserID
	}
	user, err := h.activeUser(ctx, userID)
	var enrolled bool
	if err == nil && user != nil {
		enrolled, err = h.cfg.MFA.Enrolled(ctx, user.ID)
	}
	switch {
	case err != nil:
		h.storageFailure(w, r, err)
	case user == nil || (bs == nil && !pending):
		http.Redirect(w, r, AccountSignInPath, http.StatusSeeOther)
	case !enrolled || (bs != nil && policy.HasSecondFactor(bs.AMR)):
		// Nothing to verify: the account page decides.
		http.Redirect(w, r, AccountPath, http.StatusSeeOther)
	default:
		return user, bs, true
	}
	return nil, nil, false
}

func (h *Handlers) accountVerifyForm(user *storage.User) secondFactorForm {
	return secondFactorForm{action: AccountVerifyPath, username: user.Username}
}

// AccountVerifyPage asks for the second factor of an account sign-in.
func (h *Handlers) AccountVerifyPage(w http.ResponseWriter, r *http.Request) {
	user, _, ok := h.accountVerifySubject(w, r)
	if !ok {
		return
	}
	h.renderSecondFactor(w, r, http.StatusOK, h.accountVerifyForm(user), "")
}

// AccountVerify checks the code and signs the browser in (or steps its
// session up).
func (h *Handlers) AccountVerify(w http.ResponseWriter, r *http.Request) {
	if !h.parseForm(w, r) {
		return
	}
	user, bs, ok := h.accountVerifySubject(w, r)
	if !ok {
		return
	}
	form := h.accountVerifyForm(user)
	method, ok := h.verifySecondFactor(w, r, user, func(status int, msg string) {
		h.renderSecondFactor(w, r, status, form, msg)
	})
	if !ok {
		return
	}
	base := []string{policy.AMRPassword}
	if bs != nil {
		base = bs.AMR
	}
	if _, err := h.finishSecondFactor(w, r, user, bs, base, method); err != nil {
		h.storageFailure(w, r, err)
		return
	}
	h.cfg.Sessions.EndSecondFactor(w)
	http.Redirect(w, r, AccountPath, http.StatusSeeOther)
}

// reauthNext is the page the re-prompt returns to.
func reauthNext(r *http.Request) string {
	next := r.FormValue("next")
	if !slices.Contains(reauthTargets, next) {
		return AccountPath
	}
	return next
}

func (h *Handlers) renderReauth(w http.ResponseWriter, r *http.Request, status int, a account, errMsg string) {
	h.cfg.Pages.render(w, r, status, "reauth", map[string]any{"Username": a.user.Username, "Next": reauthNext(r), "Error": errMsg})
}

// ReauthPage asks the signed-in user for their password again.
func (h *Handlers) ReauthPage(w http.ResponseWriter, r *http.Request) {
	a, ok := h.accountSession(w, r)
	if !ok {
		return
	}
	h.renderReauth(w, r, http.StatusOK, a, "")
}

// Reauth checks the password and records the check on the session.
func (h *Handlers) Reauth(w http.ResponseWriter, r *http.Request) {
	a, ok := h.accountForm(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	user, err := h.checkPassword(ctx, r, a.user.Username, r.PostFormValue("password"))
	if errors.Is(err, errBadCredentials) || (err == nil && user.ID != a.user.ID) {
		h.cfg.Logger.InfoContext(ctx, "password re-check failed", "user_id", a.user.ID)
		h.renderReauth(w, r, http.StatusUnauthorized, a, "Incorrect password.")
		return
	}
	if msg, locked := lockedMessage(err, h.cfg.Now()); locked {
		h.renderReauth(w, r, http.StatusTooManyRequests, a, msg)
		return
	}
	if err == nil {
		err = h.cfg.Sessions.ConfirmPassword(ctx, a.session)
	}
	if err != nil {
		h.storageFailure(w, r, err)
		return
	}
	http.Redirect(w, r, reauthNext(r), http.StatusSeeOther)
}

// codeCheck is a page that changes the second factor after a password
// re-check and a current code: turning it off, or new recovery codes.
type codeCheck struct {
	path, title, lead, button string
	danger                    bool
}

var (
	disableCheck = codeCheck{
		path: AccountDisablePath, title: "Turn off two-factor login",
		lead:   "Your account will be protected by your password alone, and your authenticator app and recovery codes will stop working.",
		button: "Turn off two-factor login", danger: true,
	}
	regenerateCheck = codeCheck{
		path: AccountRecoveryPath, title: "Get new recovery codes",
		lead:   "You will get 10 new recovery codes. The codes you have now will stop working.",
		button: "Get new codes",
	}
)

// mfaRequired reports whether the user must use a second factor whatever
// the client: their own flag or one of their roles.
func (h *Handlers) mfaRequired(ctx context.Context, u *storage.User) (bool, error) {
	if u.RequireMFA {
		return true, nil
	}
	roles, err := h.cfg.Store.UserRoles(ctx, u.ID)
	if err != nil {
		return false, err
	}
	return policy.AnyRequiresMFA(roles), nil
}

func (h *Handlers) renderCodeCheck(w http.ResponseWriter, r *http.Request, status int, c codeCheck, a account, errMsg string) {
	required, err := h.mfaRequired(r.Context(), a.user)
	if err != nil {
		h.storageFailure(w, r, err)
		return
	}
	h.cfg.Pages.render(w, r, status, "confirm_code", map[string]any{
		"Action": c.path, "Title": c.title, "Lead": c.lead, "Button": c.button, "Danger": c.danger,
		"Required": required && c.danger, "Error": errMsg,
	})
}

// codeCheckAccount checks the preconditions of a codeCheck page: a user
// with an authenticator app and a recent password.
func (h *Handlers) codeCheckAccount(w http.ResponseWriter, r *http.Request, c codeCheck) (account, bool) {
	a, ok := h.accountSession(w, r)
	if !ok {
		return account{}, false
	}
	if !a.enrolled {
		http.Redirect(w, r, AccountPath, http.StatusSeeOther)
		return account{}, false
	}
	if !h.requireRecentPassword(w, r, a.session, c.path) {
		return account{}, false
	}
	return a, true
}

// codeCheckPage shows a codeCheck page.
func (h *Handlers) codeCheckPage(w http.ResponseWriter, r *http.Request, c codeCheck) {
	if a, ok := h.codeCheckAccount(w, r, c); ok {
		h.renderCodeCheck(w, r, http.StatusOK, c, a, "")
	}
}

// codeCheckSubmit verifies the code of a codeCheck form; false means a page
// was written.
func (h *Handlers) codeCheckSubmit(w http.ResponseWriter, r *http.Request, c codeCheck) (account, bool) {
	if !h.parseForm(w, r) {
		return account{}, false
	}
	a, ok := h.codeCheckAccount(w, r, c)
	if !ok {
		return account{}, false
	}
	_, ok = h.verifySecondFactor(w, r, a.user, func(status int, msg string) {
		h.renderCodeCheck(w, r, status, c, a, msg)
	})
	return a, ok
}

// DisableTOTPPage asks for a code before turning the second factor off.
func (h *Handlers) DisableTOTPPage(w http.ResponseWriter, r *http.Request) {
	h.codeCheckPage(w, r, disableCheck)
}

// DisableTOTP turns the second factor off.
func (h *Handlers) DisableTOTP(w http.ResponseWriter, r *http.Request) {
	a, ok := h.codeCheckSubmit(w, r, disableCheck)
	if !ok {
		return
	}
	if err := h.cfg.MFA.Disable(r.Context(), a.user.ID); err != nil && !errors.Is(err, mfa.ErrNotEnrolled) {
		h.storageFailure(w, r, err)
		return
	}
	h.cfg.Logger.InfoContext(r.Context(), "authenticator app removed", "user_id", a.user.ID)
	http.Redirect(w, r, AccountPath+"?done=totp-off", http.StatusSeeOther)
}

// RecoveryCodesPage asks for a code before generating new recovery codes.
func (h *Handlers) RecoveryCodesPage(w http.ResponseWriter, r *http.Request) {
	h.codeCheckPage(w, r, regenerateCheck)
}

// RecoveryCodes replaces the recovery codes and shows the new ones once.
func (h *Handlers) RecoveryCodes(w http.ResponseWriter, r *http.Request) {
	a, ok := h.codeCheckSubmit(w, r, regenerateCheck)
	if !ok {
		return
	}
	codes, err := h.cfg.MFA.RegenerateRecoveryCodes(r.Context(), a.user.ID)
	if err != nil {
		h.storageFailure(w, r, err)
		return
	}
	h.cfg.Logger.InfoContext(r.Context(), "recovery codes regenerated", "user_id", a.user.ID)
	h.renderRecoveryCodes(w, r, codes, false, AccountPath)
}
