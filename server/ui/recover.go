package ui

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gatehouse/gatehouse/server/manage"
	"github.com/gatehouse/gatehouse/server/recovery"
	"github.com/gatehouse/gatehouse/storage"
)

const msgNoRecovery = "Password recovery by mail is not available on this server. Ask your administrator to set a new password."

// recoveryAvailable answers 404 when no mail can be sent.
func (h *SelfService) recoveryAvailable(w http.ResponseWriter, r *http.Request) bool {
	if h.cfg.Recovery == nil {
		h.cfg.Pages.Error(w, r, http.StatusNotFound, "Not available", msgNoRecovery)
		return false
	}
	return true
}

// ForgotPage asks for the address of the account.
func (h *SelfService) ForgotPage(w http.ResponseWriter, r *http.Request) {
	if !h.recoveryAvailable(w, r) {
		return
	}
	h.renderForgot(w, r, http.StatusOK, "")
}

func (h *SelfService) renderForgot(w http.ResponseWriter, r *http.Request, status int, errMsg string) {
	h.cfg.Pages.render(w, r, status, "forgot", map[string]any{
		"RequestID": returnID(r),
		"Email":     r.PostFormValue("email"),
		"Error":     errMsg,
	})
}

// Forgot mails a reset link if the address has an account, and answers
// the same page either way.
func (h *SelfService) Forgot(w http.ResponseWriter, r *http.Request) {
	if !h.recoveryAvailable(w, r) || !h.parseForm(w, r) {
		return
	}
	email, ok := formEmail(r)
	if !ok {
		h.renderForgot(w, r, http.StatusBadRequest, "Enter the email address of your account.")
		return
	}
	if err := h.cfg.Recovery.Forgot(r.Context(), email); err != nil {
		h.failure(w, r, err)
		return
	}
	h.cfg.Pages.render(w, r, http.StatusOK, "check_mail", map[string]any{
		"RequestID": returnID(r),
		"Message":   "If " + email + " is the address of an account, we sent a link there to choose a new password. It works once, within 30 minutes.",
	})
}

// formEmail returns the form's address when it looks like one.
func formEmail(r *http.Request) (string, bool) {
	email := strings.TrimSpace(r.PostFormValue("email"))
	at := strings.LastIndexByte(email, '@')
	return email, len(email) <= 254 && at > 0 && at < len(email)-1 && !strings.ContainsAny(email, " \t\r\n<>")
}

// ResetPage shows the new-password form of a reset link. It does not use
// the link up: mail scanners follow links.
func (h *SelfService) ResetPage(w http.ResponseWriter, r *http.Request) {
	if !h.recoveryAvailable(w, r) {
		return
	}
	link, ok := h.link(w, r, storage.MailResetPassword)
	if !ok {
		return
	}
	h.renderReset(w, r, http.StatusOK, link, "")
}

func (h *SelfService) renderReset(w http.ResponseWriter, r *http.Request, status int, link *recovery.Link, errMsg string) {
	h.cfg.Pages.render(w, r, status, "reset", map[string]any{
		"Token": link.Token, "Username": link.User.Username, "Error": errMsg,
	})
}

// Reset sets the new password, using the link up.
func (h *SelfService) Reset(w http.ResponseWriter, r *http.Request) {
	if !h.recoveryAvailable(w, r) || !h.parseForm(w, r) {
		return
	}
	link, ok := h.link(w, r, storage.MailResetPassword)
	if !ok {
		return
	}
	_, err := h.cfg.Recovery.Reset(r.Context(), link.Token, r.PostFormValue("password"))
	var verr *manage.ValidationError
	switch {
	case errors.As(err, &verr):
		h.renderReset(w, r, http.StatusBadRequest, link, capitalize(verr.Message))
	case errors.Is(err, recovery.ErrInvalidLink):
		h.invalidLink(w, r, storage.MailResetPassword)
	case err != nil:
		h.failure(w, r, err)
	default:
		h.cfg.Pages.render(w, r, http.StatusOK, "message", map[string]any{
			"Title":   "Your password has been changed",
			"Message": "You have been signed out on every device. Go back to your app and sign in with the new password.",
		})
	}
}

// VerifyPage shows the confirmation form of a verification link, without
// using it up.
func (h *SelfService) VerifyPage(w http.ResponseWriter, r *http.Request) {
	if !h.recoveryAvailable(w, r) {
		return
	}
	link, ok := h.link(w, r, storage.MailVerifyEmail)
	if !ok {
		return
	}
	h.cfg.Pages.render(w, r, http.StatusOK, "verify", map[string]any{
		"Token": link.Token, "Username": link.User.Username, "Email": link.Email,
	})
}

// Verify confirms the address, using the link up.
func (h *SelfService) Verify(w http.ResponseWriter, r *http.Request) {
	if !h.recoveryAvailable(w, r) || !h.parseForm(w, r) {
		return
	}
	u, err := h.cfg.Recovery.Verify(r.Context(), r.PostFormValue("token"))
	switch {
	case errors.Is(err, recovery.ErrInvalidLink):
		h.invalidLink(w, r, storage.MailVerifyEmail)
	case errors.Is(err, recovery.ErrEmailTaken):
		h.cfg.Pages.Error(w, r, http.StatusConflict, "This address belongs to another account",
			"Another account confirmed this email address first. Use another address, or sign in to the account that has it.")
	case err != nil:
		h.failure(w, r, err)
	default:
		h.cfg.Pages.render(w, r, http.StatusOK, "message", map[string]any{
			"Title":   "Your email address is confirmed",
			"Message": u.Email + " is now the confirmed address of your account " + u.Username + ".",
			"Hint":    "You can close this window.",
		})
	}
}

// ResendVerification mails a new verification link to the unverified
// accounts with the address; the answer is the same for any address.
func (h *SelfService) ResendVerification(w http.ResponseWriter, r *http.Request) {
	if !h.recoveryAvailable(w, r) || !h.parseForm(w, r) {
		return
	}
	email, ok := formEmail(r)
	if !ok {
		h.invalidLink(w, r, storage.MailVerifyEmail)
		return
	}
	if err := h.cfg.Recovery.ResendVerification(r.Context(), email); err != nil {
		h.failure(w, r, err)
		return
	}
	h.cfg.Pages.render(w, r, http.StatusOK, "check_mail", map[string]any{
		"Message": "If an account waits for " + email + " to be confirmed, we sent a new link there.",
	})
}

// link loads the usable link named by the token parameter; false means a
// page was written.
func (h *SelfService) link(w http.ResponseWriter, r *http.Request, purpose string) (*recovery.Link, bool) {
	link, err := h.cfg.Recovery.CheckLink(r.Context(), purpose, r.FormValue("token"))
	switch {
	case errors.Is(err, recovery.ErrInvalidLink):
		h.invalidLink(w, r, purpose)
	case err != nil:
		h.failure(w, r, err)
	default:
		return link, true
	}
	return nil, false
}

// invalidLink answers 410 and offers a new link.
func (h *SelfService) invalidLink(w http.ResponseWriter, r *http.Request, purpose string) {
	h.cfg.Pages.render(w, r, http.StatusGone, "link_invalid", map[string]any{"Reset": purpose == storage.MailResetPassword})
}
