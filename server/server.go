package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/server/credential"
	"github.com/gatehouse/gatehouse/server/logout"
	"github.com/gatehouse/gatehouse/server/mail"
	"github.com/gatehouse/gatehouse/server/manage"
	"github.com/gatehouse/gatehouse/server/metrics"
	"github.com/gatehouse/gatehouse/server/mfa"
	"github.com/gatehouse/gatehouse/server/oauth"
	"github.com/gatehouse/gatehouse/server/outbound"
	"github.com/gatehouse/gatehouse/server/secret"
	"github.com/gatehouse/gatehouse/server/session"
	"github.com/gatehouse/gatehouse/server/source"
	"github.com/gatehouse/gatehouse/server/throttle"
	"github.com/gatehouse/gatehouse/server/ui"
	"github.com/gatehouse/gatehouse/web"
)

// Server is Gatehouse's HTTP surface.
type Server struct {
	cfg     Config
	handler http.Handler
	// outbox delivers mails in the background; nil without a mail sender.
	outbox *mail.Outbox
}

// Paths of the pages and the resume URL of the interactive flow.
const (
	loginPath   = "/login"
	consentPath = "/consent"
	logoutPath  = "/logout"
	resumePath  = "/oauth2/auth/resume"
)

// siteName names Gatehouse on its pages and in authenticator apps.
const siteName = "Gatehouse"

// New validates cfg and builds the route table.
func New(cfg Config) (*Server, error) {
	issuer, err := url.Parse(cfg.Issuer)
	if err != nil || issuer.Host == "" || (issuer.Scheme != "https" && issuer.Scheme != "http") {
		return nil, fmt.Errorf("server: issuer %q is not an absolute http(s) URL", cfg.Issuer)
	}
	if strings.HasSuffix(cfg.Issuer, "/") {
		return nil, errors.New("server: issuer must not end with a slash")
	}
	if cfg.Store == nil || cfg.Keyring == nil || cfg.Keys == nil || cfg.Passwords == nil {
		return nil, errors.New("server: Store, Keyring, Keys and Passwords are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	cfg.Logger = slog.New(requestIDHandler{cfg.Logger.Handler()})
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Lifetimes == (Lifetimes{}) {
		cfg.Lifetimes = DefaultLifetimes()
	}
	secure := issuer.Scheme == "https"
	var m *metrics.Metrics
	if cfg.Metrics != nil {
		if m, err = metrics.New(cfg.Metrics); err != nil {
			return nil, fmt.Errorf("server: metrics: %w", err)
		}
	}
	lt := cfg.Lifetimes

	pages, err := ui.NewPages(web.Templates(), siteName, cfg.Logger, ui.WithRegistration(cfg.Registration))
	if err != nil {
		return nil, err
	}
	sessions := session.NewManager(session.Config{
		Store:    cfg.Store,
		Cookies:  cfg.Keyring.AEAD(secret.PurposeCookie),
		Secure:   secure,
		Idle:     lt.SessionIdle,
		Absolute: lt.SessionAbsolute,
		Pending:  lt.PendingLogin,
		Now:      cfg.Now,
	})
	notifier := logout.New(logout.Config{
		Issuer:   cfg.Issuer,
		Clients:  cfg.Store,
		Sessions: cfg.Store,
		Signer:   cfg.Keys.Signer(),
		HTTP:     outbound.NewClient(cfg.AllowPrivateOutbound),
		Logger:   cfg.Logger,
	})
	provider, err := oauth.NewProvider(oauth.Config{
		Issuer:          cfg.Issuer,
		Store:           cfg.Store,
		TokenSecrets:    cfg.Keyring.Keys(secret.PurposeTokenHMAC),
		Signer:          cfg.Keys.Signer(),
		SecretHasher:    credential.NewSecretHasher(cfg.Keyring.Digester(secret.PurposeClientSecret)),
		Sessions:        sessions,
		Pages:           pages,
		Logout:          notifier,
		ClientAuth:      throttle.NewClientAuth(throttle.DefaultClientAuthLockout(), cfg.Now),
		SessionLifetime: lt.SessionAbsolute,
		Lifetimes: oauth.Lifetimes{
			AuthorizeCode:   lt.AuthorizeCode,
			AccessToken:     lt.AccessToken,
			JWTAccessToken:  lt.JWTAccessToken,
			IDToken:         lt.IDToken,
			RefreshIdle:     lt.RefreshIdle,
			RefreshAbsolute: lt.RefreshAbsolute,
		},
		AllowPrivateOutbound: cfg.AllowPrivateOutbound,
		Debug:                cfg.Dev,
		RegistrationEndpoint: cfg.DynamicRegistration,
		Logger:               cfg.Logger,
		Metrics:              m,
		Now:                  cfg.Now,
		LoginPath:            loginPath,
		ConsentPath:          consentPath,
		SecondFactorPath:     ui.SecondFactorPath,
		EnrollPath:           ui.EnrollPath,
	})
	if err != nil {
		return nil, err
	}
	accounts := manage.New(cfg.Store, cfg.Passwords, nil, cfg.Now, manage.WithLogout(notifier))
	selfService, outbox, err := newSelfService(cfg, pages, accounts)
	if err != nil {
		return nil, err
	}
	pageHandlers := ui.New(ui.Config{
		Manage:          accounts,
		Recovery:        selfService.Recovery(),
		Store:           cfg.Store,
		Sessions:        sessions,
		Passwords:       cfg.Passwords,
		Pages:           pages,
		Logger:          cfg.Logger,
		ResumePath:      resumePath,
		ConsentLifetime: lt.Consent,
		Limiter: throttle.New(throttle.Config{
			Store:   cfg.Store,
			Account: cfg.Lockout,
			Delay:   cfg.LockoutDelay,
			Now:     cfg.Now,
			Logger:  cfg.Logger,
			Metrics: m,
		}),
		MFA: mfa.New(mfa.Config{
			Store:    cfg.Store,
			Sealer:   cfg.Keyring.AEAD(secret.PurposeAtRest),
			Digester: cfg.Keyring.Digester(secret.PurposeRecoveryCode),
			Issuer:   siteName,
			Lockout:  cfg.Lockout,
			Now:      cfg.Now,
			Logger:   cfg.Logger,
		}),
		Metrics: m,
		Now:     cfg.Now,
	})

	mux := http.NewServeMux()
	// Discovery and keys: public, cacheable, open to every origin.
	mux.HandleFunc("GET /.well-known/openid-configuration", provider.Discovery)
	mux.HandleFunc("GET /.well-known/jwks.json", cfg.Keys.ServeJWKS)

	// The interactive flow: never cached.
	mux.Handle("GET /oauth2/auth", noStore(http.HandlerFunc(provider.Authorize)))
	mux.Handle("POST /oauth2/auth", noStore(http.HandlerFunc(provider.Authorize)))
	mux.Handle("GET "+resumePath, noStore(http.HandlerFunc(provider.Resume)))

	// Endpoints called by clients, also cross-origin by browser apps: no
	// CSRF protection here (CORS decides per client).
	mux.HandleFunc("POST /oauth2/token", provider.Token)
	mux.HandleFunc("OPTIONS /oauth2/token", provider.Preflight)
	mux.HandleFunc("POST /oauth2/revoke", provider.Revoke)
	mux.HandleFunc("OPTIONS /oauth2/revoke", provider.Preflight)
	mux.HandleFunc("POST /oauth2/introspect", provider.Introspect)
	mux.HandleFunc("GET /userinfo", provider.UserInfo)
	mux.HandleFunc("POST /userinfo", provider.UserInfo)
	mux.HandleFunc("OPTIONS /userinfo", provider.Preflight)

	// Pages: their POSTs are protected against cross-site requests.
	csrf := http.NewCrossOriginProtection()
	page := func(h http.HandlerFunc) http.Handler { return noStore(h) }
	post := func(h http.HandlerFunc) http.Handler { return noStore(csrf.Handler(h)) }
	mux.Handle("GET "+loginPath, page(pageHandlers.LoginPage))
	mux.Handle("POST "+loginPath, post(pageHandlers.Login))
	mux.Handle("GET "+consentPath, page(pageHandlers.ConsentPage))
	mux.Handle("POST "+consentPath, post(pageHandlers.Consent))
	secondFactorRoutes(mux, pageHandlers, page, post)
	selfServiceRoutes(mux, selfService, page, post)
	// The end-session endpoint takes cross-site requests from clients; it
	// does its own cross-origin check (a cross-site POST is replayed as GET).
	mux.Handle("GET "+logoutPath, page(provider.EndSession))
	mux.Handle("POST "+logoutPath, page(provider.EndSession))

	mux.Handle("GET /static/", http.StripPrefix("/static/", staticFiles()))
	adminRoutes(mux, cfg, provider, notifier)
	if cfg.DynamicRegistration {
		if err := registrationRoutes(mux, cfg, notifier); err != nil {
			return nil, err
		}
	}
	healthRoutes(mux, cfg.Store, cfg.Migrations)
	if m != nil {
		mux.Handle("GET /metrics", m.Handler())
	}
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		pages.Error(w, r, http.StatusOK, "Gatehouse", "This is an OpenID Connect provider. Applications send you here to sign in.")
	})

	// Metrics wrap the mux itself: only there is r.Pattern visible after it.
	h := securityHeaders(secure, m.Middleware(mux))
	h = source.Middleware(cfg.TrustedProxies, h)
	h = recoverPanics(cfg.Logger, pages, h)
	h = accessLog(cfg.Logger, h)
	return &Server{cfg: cfg, handler: h, outbox: outbox}, nil
}

// Handler returns the root handler.
func (s *Server) Handler() http.Handler { return s.handler }

func staticFiles() http.Handler {
	files := http.FileServerFS(web.Static())
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, r)
	})
}

// RunCleanup deletes expired sessions, pending requests, consents and token
// records every interval until ctx is done. Every instance may run it: the
// store lets one instance clean at a time and the deletes are idempotent.
func (s *Server) RunCleanup(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.cfg.Store.DeleteExpired(ctx, s.cfg.Now()); err != nil && ctx.Err() == nil {
				s.cfg.Logger.WarnContext(ctx, "delete expired records", "err", err)
			}
		}
	}
}
