package ui

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
)

// Pages renders the page templates. Templates are parsed once at start-up
// and rendered through a buffer, so a template error never sends half a page.
type Pages struct {
	siteName string
	logger   *slog.Logger
	pages    map[string]*template.Template
	// registration links the login page to /register.
	registration bool
}

var pageNames = []string{"login", "consent", "error", "logout", "signed_out",
	"second_factor", "totp_enroll", "recovery_codes", "account", "account_signin", "reauth", "confirm_code",
	"register", "forgot", "reset", "verify", "check_mail", "link_invalid", "message",
	"account_password", "account_profile", "account_apps"}

// NewPages parses the templates in fsys (templates/layout.html plus one file per page).
func NewPages(fsys fs.FS, siteName string, logger *slog.Logger, opts ...PageOption) (*Pages, error) {
	p := &Pages{siteName: siteName, logger: logger, pages: make(map[string]*template.Template)}
	for _, opt := range opts {
		opt(p)
	}
	for _, name := range pageNames {
		t, err := template.New("layout").ParseFS(fsys, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("parse template %s: %w", name, err)
		}
		p.pages[name] = t
	}
	return p, nil
}

// render writes page name with data and status.
func (p *Pages) render(w http.ResponseWriter, r *http.Request, status int, name string, data map[string]any) {
	if data == nil {
		data = map[string]any{}
	}
	data["SiteName"] = p.siteName
	data["RegistrationOpen"] = p.registration
	var buf bytes.Buffer
	if err := p.pages[name].ExecuteTemplate(&buf, "layout", data); err != nil {
		p.logger.ErrorContext(r.Context(), "render page", "page", name, "err", err)
		http.Error(w, "Internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// Error renders the error page. Message is shown to the person; it must be
// user-safe (never an internal error's text).
func (p *Pages) Error(w http.ResponseWriter, r *http.Request, status int, title, message string) {
	p.render(w, r, status, "error", map[string]any{"Title": title, "Message": message})
}

// ErrorHint renders the error page with an extra hint line.
func (p *Pages) ErrorHint(w http.ResponseWriter, r *http.Request, status int, title, message, hint string) {
	p.render(w, r, status, "error", map[string]any{"Title": title, "Message": message, "Hint": hint})
}

// Unavailable renders the page for a database or capacity outage (503).
func (p *Pages) Unavailable(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Retry-After", "5")
	p.Error(w, r, http.StatusServiceUnavailable, "Temporarily unavailable",
		"Gatehouse cannot handle your request right now. Please try again in a moment.")
}

// Internal renders the page for an unexpected failure after logging it.
func (p *Pages) Internal(w http.ResponseWriter, r *http.Request, err error) {
	p.logger.ErrorContext(r.Context(), "page failed", "path", r.URL.Path, "err", err)
	p.Error(w, r, http.StatusInternalServerError, "Something went wrong",
		"Gatehouse could not complete your request. Please try again.")
}

// LogoutConfirm asks a signed-in person to confirm signing out; hidden are
// the end-session parameters the confirmation form carries.
func (p *Pages) LogoutConfirm(w http.ResponseWriter, r *http.Request, username string, hidden map[string]string) {
	p.render(w, r, http.StatusOK, "logout", map[string]any{"Username": username, "Hidden": hidden})
}

// SignedOut tells the person they are signed out.
func (p *Pages) SignedOut(w http.ResponseWriter, r *http.Request) {
	p.render(w, r, http.StatusOK, "signed_out", nil)
}
