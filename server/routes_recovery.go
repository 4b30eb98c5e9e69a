package server

import (
	"context"
	"errors"
	"net/http"

	"github.com/gatehouse/gatehouse/server/mail"
	"github.com/gatehouse/gatehouse/server/manage"
	"github.com/gatehouse/gatehouse/server/recovery"
	"github.com/gatehouse/gatehouse/server/secret"
	"github.com/gatehouse/gatehouse/server/ui"
	"github.com/gatehouse/gatehouse/web"
)

// newSelfService builds the registration and recovery pages. Without a mail
// sender there is no recovery service (and no outbox): the pages then say
// that recovery is not available.
func newSelfService(cfg Config, pages *ui.Pages, accounts *manage.Service) (*ui.SelfService, *mail.Outbox, error) {
	self := ui.SelfServiceConfig{Registration: cfg.Registration, Pages: pages, Logger: cfg.Logger}
	if cfg.Mail == nil {
		if cfg.Registration {
			return nil, nil, errors.New("server: registration needs a way to send mail (Mail)")
		}
		return ui.NewSelfService(self), nil, nil
	}
	templates, err := mail.NewTemplates(web.Mail(), siteName)
	if err != nil {
		return nil, nil, err
	}
	outbox := mail.NewOutbox(cfg.Mail, cfg.Logger, 0)
	self.Recovery, err = recovery.New(recovery.Config{
		Store:        cfg.Store,
		Accounts:     accounts,
		Passwords:    cfg.Passwords,
		Tokens:       cfg.Keyring.Digester(secret.PurposeMailToken),
		Outbox:       outbox,
		Mails:        templates,
		VerifyURL:    cfg.Issuer + ui.VerifyPath,
		ResetURL:     cfg.Issuer + ui.ResetPath,
		ForgotURL:    cfg.Issuer + ui.ForgotPath,
		MailsPerHour: cfg.MailsPerHour,
		Logger:       cfg.Logger,
		Now:          cfg.Now,
	})
	if err != nil {
		return nil, nil, err
	}
	return ui.NewSelfService(self), outbox, nil
}

// selfServiceRoutes adds the registration and recovery pages. Reset and
// verification links carry their token in the query string, which the
// access log never records.
func selfServiceRoutes(mux *http.ServeMux, h *ui.SelfService, page, post func(http.HandlerFunc) http.Handler) {
	mux.Handle("GET "+ui.RegisterPath, page(h.RegisterPage))
	mux.Handle("POST "+ui.RegisterPath, post(h.Register))
	mux.Handle("GET "+ui.ForgotPath, page(h.ForgotPage))
	mux.Handle("POST "+ui.ForgotPath, post(h.Forgot))
	mux.Handle("GET "+ui.ResetPath, page(h.ResetPage))
	mux.Handle("POST "+ui.ResetPath, post(h.Reset))
	mux.Handle("GET "+ui.VerifyPath, page(h.VerifyPage))
	mux.Handle("POST "+ui.VerifyPath, post(h.Verify))
	mux.Handle("POST "+ui.VerifyResendPath, post(h.ResendVerification))
}

// Close waits, at most until ctx ends, for queued mails to go out. Call it
// after the HTTP server has shut down.
func (s *Server) Close(ctx context.Context) error {
	if s.outbox == nil {
		return nil
	}
	return s.outbox.Close(ctx)
}
