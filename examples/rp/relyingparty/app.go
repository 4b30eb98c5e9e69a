package relyingparty

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// Config is what the app needs to know about itself and its provider.
type Config struct {
	// Issuer is the provider's issuer URL; everything else is discovered.
	Issuer string
	// ClientID and ClientSecret are the app's registration.
	ClientID, ClientSecret string
	// RedirectURL is the registered redirect URI; the app serves its path
	// and its origin is the app's base URL.
	RedirectURL string
	// PostLogoutRedirectURL is the registered post_logout_redirect_uri;
	// empty means BaseURL + "/signed-out".
	PostLogoutRedirectURL string
	// Scopes default to openid profile email offline_access.
	Scopes []string
	// HTTPClient talks to the provider (discovery, JWKS, token, UserInfo);
	// nil means a client with a 10 s timeout.
	HTTPClient *http.Client
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

// BackchannelLogoutPath is where the app receives logout tokens; register
// BaseURL + BackchannelLogoutPath as the client's backchannel logout URI.
const BackchannelLogoutPath = "/backchannel-logout"

// loginTimeout bounds how long a started login may take to come back.
const loginTimeout = 10 * time.Minute

// App is the running example application.
type App struct {
	cfg          Config
	oauth        oauth2.Config
	verifier     *oidc.IDTokenVerifier
	provider     *oidc.Provider
	endSession   string
	issParameter bool
	callbackPath string
	signedOut    string
	secure       bool
	sessions     *sessionStore
	pages        *pages
	handler      http.Handler
}

// providerMetadata holds the discovery fields go-oidc does not expose.
type providerMetadata struct {
	EndSessionEndpoint string `json:"end_session_endpoint"`
	// RFC 9207: when the provider says it sends iss, the callback requires it.
	IssParameter bool `json:"authorization_response_iss_parameter_supported"`
}

// New discovers the provider and builds the app.
func New(ctx context.Context, cfg Config) (*App, error) {
	if cfg.Issuer == "" || cfg.ClientID == "" || cfg.ClientSecret == "" || cfg.RedirectURL == "" {
		return nil, errors.New("relyingparty: Issuer, ClientID, ClientSecret and RedirectURL are required")
	}
	redirect, err := url.Parse(cfg.RedirectURL)
	if err != nil || redirect.Host == "" || (redirect.Scheme != "http" && redirect.Scheme != "https") {
		return nil, fmt.Errorf("relyingparty: redirect URL %q is not an absolute http(s) URL", cfg.RedirectURL)
	}
	if cfg.PostLogoutRedirectURL == "" {
		cfg.PostLogoutRedirectURL = BaseURL(cfg.RedirectURL) + "/signed-out"
	}
	signedOut, err := url.Parse(cfg.PostLogoutRedirectURL)
	if err != nil || signedOut.Path == "" || signedOut.Path == "/" {
		return nil, fmt.Errorf("relyingparty: post-logout redirect URL %q needs a path of its own", cfg.PostLogoutRedirectURL)
	}
	if len(cfg.Scopes) == 0 {
		cfg.Scopes = []string{oidc.ScopeOpenID, "profile", "email", oidc.ScopeOfflineAccess}
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	a := &App{
		cfg:          cfg,
		callbackPath: redirect.Path,
		signedOut:    signedOut.Path,
		secure:       redirect.Scheme == "https",
		sessions:     newSessionStore(),
	}
	if a.pages, err = newPages(); err != nil {
		return nil, err
	}
	// go-oidc reads the JWKS later with the context given here: keep it
	// alive for the app's lifetime, not the caller's.
	pctx := oidc.ClientContext(context.WithoutCancel(ctx), cfg.HTTPClient)
	a.provider, err = oidc.NewProvider(pctx, cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("relyingparty: discovery: %w", err)
	}
	var meta providerMetadata
	if err := a.provider.Claims(&meta); err != nil {
		return nil, fmt.Errorf("relyingparty: discovery: %w", err)
	}
	a.endSession, a.issParameter = meta.EndSessionEndpoint, meta.IssParameter
	a.verifier = a.provider.Verifier(&oidc.Config{ClientID: cfg.ClientID})
	a.oauth = oauth2.Config{
		ClientID:     cfg.ClientID,
		ClientSecret: cfg.ClientSecret,
		Endpoint:     a.provider.Endpoint(),
		RedirectURL:  cfg.RedirectURL,
		Scopes:       cfg.Scopes,
	}
	a.handler = a.routes()
	return a, nil
}

// BaseURL is the origin of a URL (scheme and host), the app's base URL.
func BaseURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// Handler returns the app's HTTP handler.
func (a *App) Handler() http.Handler { return a.handler }

func (a *App) routes() http.Handler {
	mux := http.NewServeMux()
	// The app's own forms are protected against cross-site posts; the
	// back-channel endpoint is called server to server by the provider.
	csrf := http.NewCrossOriginProtection()
	mux.HandleFunc("GET /{$}", a.home)
	mux.Handle("POST /login", csrf.Handler(http.HandlerFunc(a.login)))
	mux.HandleFunc("GET "+a.callbackPath, a.callback)
	mux.Handle("POST /refresh", csrf.Handler(http.HandlerFunc(a.refresh)))
	mux.Handle("POST /logout", csrf.Handler(http.HandlerFunc(a.logout)))
	mux.HandleFunc("GET "+a.signedOut, a.signedOutPage)
	mux.HandleFunc("POST "+BackchannelLogoutPath, a.backchannelLogout)
	mux.Handle("GET /static/", http.StripPrefix("/static/", staticFiles()))
	return headers(mux)
}

// headers sets the security headers of every response. No form-action:
// the logout form's redirect goes to the provider.
func headers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Content-Type-Options", "nosniff")
		if !strings.HasPrefix(r.URL.Path, "/static/") {
			h.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}

// clientContext lets x/oauth2 and go-oidc use the configured HTTP client.
func (a *App) clientContext(ctx context.Context) context.Context {
	ctx = context.WithValue(ctx, oauth2.HTTPClient, a.cfg.HTTPClient)
	return oidc.ClientContext(ctx, a.cfg.HTTPClient)
}
