package ui

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/gatehouse/gatehouse/server/credential"
	"github.com/gatehouse/gatehouse/server/manage"
	"github.com/gatehouse/gatehouse/storage"
)

// Paths of the account pages for the password, the profile and the apps.
const (
	AccountPasswordPath = "/account/password"
	AccountProfilePath  = "/account/profile"
	AccountAppsPath     = "/account/apps"
	AccountSignOutPath  = "/account/sign-out-everywhere"
)

// recentSignIns is how many sign-ins the account page lists.
const recentSignIns = 10

func (h *Handlers) renderPassword(w http.ResponseWriter, r *http.Request, status int, a account, field, msg string) {
	h.cfg.Pages.render(w, r, status, "account_password", map[string]any{
		"Username": a.user.Username, "ErrorField": field, "Error": msg,
	})
}

// AccountPasswordPage shows the change-password form.
func (h *Handlers) AccountPasswordPage(w http.ResponseWriter, r *http.Request) {
	if a, ok := h.accountSession(w, r); ok {
		h.renderPassword(w, r, http.StatusOK, a, "", "")
	}
}

// AccountPassword changes the password: the current one is required; every
// other session and every token of the user ends, this session stays.
func (h *Handlers) AccountPassword(w http.ResponseWriter, r *http.Request) {
	a, ok := h.accountForm(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	user, err := h.checkPassword(ctx, r, a.user.Username, r.PostFormValue("current_password"))
	if errors.Is(err, errBadCredentials) || (err == nil && user.ID != a.user.ID) {
		h.renderPassword(w, r, http.StatusUnauthorized, a, "current", "Your current password is not right.")
		return
	}
	if msg, locked := lockedMessage(err, h.cfg.Now()); locked {
		h.renderPassword(w, r, http.StatusTooManyRequests, a, "current", msg)
		return
	}
	if err != nil {
		h.storageFailure(w, r, err)
		return
	}
	newPassword := r.PostFormValue("new_password")
	if err := credential.ValidatePassword(newPassword); err != nil {
		h.renderPassword(w, r, http.StatusBadRequest, a, "new", userMessage(err))
		return
	}
	if err := h.cfg.Manage.ChangePassword(ctx, a.user.ID, newPassword, a.session); err != nil {
		h.storageFailure(w, r, err)
		return
	}
	h.cfg.Logger.InfoContext(ctx, "security event: password changed", "user_id", a.user.ID)
	http.Redirect(w, r, AccountPath+"?done=password-changed", http.StatusSeeOther)
}

// userMessage is the person-safe text of a validation error.
func userMessage(err error) string {
	var ve *manage.ValidationError
	if errors.As(err, &ve) {
		return ve.Message
	}
	msg := err.Error()
	if i := strings.Index(msg, ": "); i >= 0 {
		msg = msg[i+2:]
	}
	return strings.ToUpper(msg[:1]) + msg[1:] + "."
}

func (h *Handlers) renderProfile(w http.ResponseWriter, r *http.Request, status int, name, email, field, msg string) {
	h.cfg.Pages.render(w, r, status, "account_profile", map[string]any{
		"Name": name, "Email": email, "ErrorField": field, "Error": msg,
	})
}

// AccountProfilePage shows the profile form.
func (h *Handlers) AccountProfilePage(w http.ResponseWriter, r *http.Request) {
	if a, ok := h.accountSession(w, r); ok {
		h.renderProfile(w, r, http.StatusOK, a.user.DisplayName, a.user.Email, "", "")
	}
}

// AccountProfile saves the name at once; a new email address is mailed a
// verification link and replaces the old one only when it is confirmed.
func (h *Handlers) AccountProfile(w http.ResponseWriter, r *http.Request) {
	a, ok := h.accountForm(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	name, email := r.PostFormValue("name"), strings.TrimSpace(r.PostFormValue("email"))
	user, err := h.cfg.Manage.SetDisplayName(ctx, a.user.ID, name)
	var ve *manage.ValidationError
	if errors.As(err, &ve) {
		h.renderProfile(w, r, http.StatusBadRequest, name, email, "name", ve.Message)
		return
	}
	if err != nil {
		h.storageFailure(w, r, err)
		return
	}
	done := "profile-saved"
	if !strings.EqualFold(email, user.Email) {
		if err := manage.CheckEmail(email); err != nil {
			h.renderProfile(w, r, http.StatusBadRequest, name, email, "email", userMessage(err))
			return
		}
		if h.cfg.Recovery == nil {
			h.renderProfile(w, r, http.StatusBadRequest, name, email, "email", "This server cannot send mail, so your email address cannot be changed here. Ask an administrator.")
			return
		}
		if err := h.cfg.Recovery.SendVerification(ctx, user, email); err != nil {
			h.storageFailure(w, r, err)
			return
		}
		done = "email-sent"
	}
	http.Redirect(w, r, AccountPath+"?done="+done, http.StatusSeeOther)
}

// connectedApp is one app on the connected-apps page.
type connectedApp struct {
	ClientID, Name, Granted, LastUsed string
	Scopes                            []ScopeDescription
}

// AccountAppsPage lists the apps the user consented to.
func (h *Handlers) AccountAppsPage(w http.ResponseWriter, r *http.Request) {
	a, ok := h.accountSession(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	consents, err := h.cfg.Store.ListUserConsents(ctx, a.user.ID)
	if err != nil {
		h.storageFailure(w, r, err)
		return
	}
	apps := make([]connectedApp, 0, len(consents))
	for _, c := range consents {
		client, err := h.cfg.Store.FindClient(ctx, c.ClientID)
		if errors.Is(err, storage.ErrNotFound) {
			continue
		}
		if err != nil {
			h.storageFailure(w, r, err)
			return
		}
		last, err := h.cfg.Store.LastTokenIssued(ctx, a.user.ID, c.ClientID)
		if err != nil {
			h.storageFailure(w, r, err)
			return
		}
		app := connectedApp{ClientID: client.ID, Name: client.Name, Granted: c.GrantedAt.Format("2 January 2006")}
		if !last.IsZero() {
			app.LastUsed = last.Format("2 January 2006, 15:04 UTC")
		}
		for _, s := range c.Scopes {
			app.Scopes = append(app.Scopes, DescribeScope(s))
		}
		apps = append(apps, app)
	}
	notice := ""
	if name := r.URL.Query().Get("removed"); name != "" {
		notice = name + " no longer has access to your account."
	}
	h.cfg.Pages.render(w, r, http.StatusOK, "account_apps", map[string]any{"Apps": apps, "Notice": notice})
}

// AccountAppRevoke removes an app: its consent is forgotten and its tokens
// for the user are revoked.
func (h *Handlers) AccountAppRevoke(w http.ResponseWriter, r *http.Request) {
	a, ok := h.accountForm(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	clientID := r.PostFormValue("client_id")
	client, err := h.cfg.Store.FindClient(ctx, clientID)
	if errors.Is(err, storage.ErrNotFound) {
		h.cfg.Pages.Error(w, r, http.StatusBadRequest, "Unknown app", "That app does not exist any more.")
		return
	}
	if err == nil {
		err = h.cfg.Manage.DisconnectApp(ctx, a.user.ID, clientID)
	}
	if err != nil {
		h.storageFailure(w, r, err)
		return
	}
	h.cfg.Logger.InfoContext(ctx, "app disconnected", "user_id", a.user.ID, "client_id", clientID)
	http.Redirect(w, r, AccountAppsPath+"?"+url.Values{"removed": {client.Name}}.Encode(), http.StatusSeeOther)
}

// AccountSignOutEverywhere ends every session of the user (this one too),
// revokes every token and tells the apps by back-channel logout.
func (h *Handlers) AccountSignOutEverywhere(w http.ResponseWriter, r *http.Request) {
	a, ok := h.accountForm(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	if _, err := h.cfg.Manage.SignOutUser(ctx, a.user.ID); err != nil {
		h.storageFailure(w, r, err)
		return
	}
	if err := h.cfg.Sessions.SignOut(ctx, w, r); err != nil {
		h.storageFailure(w, r, err)
		return
	}
	h.cfg.Logger.InfoContext(ctx, "security event: signed out everywhere", "user_id", a.user.ID)
	h.cfg.Pages.SignedOut(w, r)
}

// signIn is one line of the recent sign-in activity.
type signIn struct {
	*storage.SignInEvent
	Method string
}

func (h *Handlers) signInActivity(r *http.Request, userID string) ([]signIn, error) {
	events, err := h.cfg.Store.ListSignIns(r.Context(), userID, recentSignIns)
	if err != nil {
		return nil, err
	}
	out := make([]signIn, len(events))
	for i, e := range events {
		method := "password"
		if slices.Contains(e.Methods, "otp") {
			method = "password and authenticator app"
		} else if slices.Contains(e.Methods, "mfa") {
			method = "password and recovery code"
		}
		out[i] = signIn{SignInEvent: e, Method: method}
	}
	return out, nil
}
