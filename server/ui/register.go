package ui

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/gatehouse/gatehouse/server/credential"
	"github.com/gatehouse/gatehouse/server/manage"
	"github.com/gatehouse/gatehouse/server/recovery"
	"github.com/gatehouse/gatehouse/storage"
)

// Paths of the registration and recovery pages.
const (
	RegisterPath     = "/register"
	ForgotPath       = "/forgot"
	ResetPath        = "/reset"
	VerifyPath       = "/verify"
	VerifyResendPath = "/verify/resend"
)

// SelfServiceConfig wires the registration and recovery pages.
type SelfServiceConfig struct {
	// Recovery sends the mails; nil when Gatehouse has no way to send mail,
	// and the pages then say that recovery is not available.
	Recovery *recovery.Service
	// Registration opens /register to everyone.
	Registration bool
	Pages        *Pages
	Logger       *slog.Logger
}

// SelfService serves the pages people use on their own: registration,
// email verification and "forgot your password?". Every answer about an
// address is the same whether or not an account has it.
type SelfService struct {
	cfg SelfServiceConfig
}

// NewSelfService returns the self-service page handlers.
func NewSelfService(cfg SelfServiceConfig) *SelfService {
	return &SelfService{cfg: cfg}
}

// Recovery returns the mail-link service, nil when mail is off.
func (h *SelfService) Recovery() *recovery.Service { return h.cfg.Recovery }

// PageOption adjusts what every page shows.
type PageOption func(*Pages)

// WithRegistration makes the login page offer to create an account.
func WithRegistration(open bool) PageOption {
	return func(p *Pages) { p.registration = open }
}

// returnID is the pending sign-in (ar) a page may link back to, when it
// looks like one; it is only ever put into a link.
func returnID(r *http.Request) string {
	ar := r.FormValue("ar")
	if len(ar) == 0 || len(ar) > 128 || strings.Trim(ar, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != "" {
		return ""
	}
	return ar
}

// RegisterPage shows the registration form (404 when registration is closed).
func (h *SelfService) RegisterPage(w http.ResponseWriter, r *http.Request) {
	if !h.registrationOpen(w, r) {
		return
	}
	h.renderRegister(w, r, http.StatusOK, nil)
}

func (h *SelfService) registrationOpen(w http.ResponseWriter, r *http.Request) bool {
	if !h.cfg.Registration || h.cfg.Recovery == nil {
		h.cfg.Pages.Error(w, r, http.StatusNotFound, "Page not found", "This server does not offer self-registration. Ask your administrator for an account.")
		return false
	}
	return true
}

func (h *SelfService) renderRegister(w http.ResponseWriter, r *http.Request, status int, errs map[string]string) {
	if errs == nil {
		errs = map[string]string{}
	}
	h.cfg.Pages.render(w, r, status, "register", map[string]any{
		"RequestID": returnID(r),
		"Username":  r.PostFormValue("username"),
		"Name":      r.PostFormValue("name"),
		"Email":     r.PostFormValue("email"),
		"Errors":    errs,
	})
}

// Register creates the account and answers "check your mail" — also when
// the address already belongs to someone, who gets a mail saying so.
func (h *SelfService) Register(w http.ResponseWriter, r *http.Request) {
	if !h.registrationOpen(w, r) || !h.parseForm(w, r) {
		return
	}
	email := strings.TrimSpace(r.PostFormValue("email"))
	err := h.cfg.Recovery.Register(r.Context(), manage.UserSpec{
		Username:    r.PostFormValue("username"),
		Email:       email,
		DisplayName: r.PostFormValue("name"),
		Password:    r.PostFormValue("password"),
	})
	var verr *manage.ValidationError
	switch {
	case errors.As(err, &verr):
		h.renderRegister(w, r, http.StatusBadRequest, map[string]string{verr.Field: capitalize(verr.Message)})
		return
	case err != nil:
		h.failure(w, r, err)
		return
	}
	h.cfg.Pages.render(w, r, http.StatusOK, "check_mail", map[string]any{
		"RequestID": returnID(r),
		"Message": "We sent a mail to " + email + " with what to do next. " +
			"You can sign in right away; confirming your address lets apps trust it.",
	})
}

// parseForm parses a bounded form body; false means a page was written.
func (h *SelfService) parseForm(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		h.cfg.Pages.Error(w, r, http.StatusBadRequest, "Bad request", "The form could not be read. Please try again.")
		return false
	}
	return true
}

// failure answers an unexpected error: 503 for an outage, else 500.
func (h *SelfService) failure(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, storage.ErrUnavailable) || errors.Is(err, credential.ErrBusy) {
		h.cfg.Logger.WarnContext(r.Context(), "page unavailable", "path", r.URL.Path, "err", err)
		h.cfg.Pages.Unavailable(w, r)
		return
	}
	h.cfg.Pages.Internal(w, r, err)
}

// capitalize starts a validation message with a capital letter.
func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
