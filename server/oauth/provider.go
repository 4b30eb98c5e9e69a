package oauth

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/oauth2"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/fosite/handler/pkce"
	"github.com/ory/fosite/token/hmac"
	"github.com/ory/fosite/token/jwt"

	"github.com/gatehouse/gatehouse/server/credential"
	"github.com/gatehouse/gatehouse/server/metrics"
	"github.com/gatehouse/gatehouse/server/outbound"
	"github.com/gatehouse/gatehouse/server/session"
	"github.com/gatehouse/gatehouse/server/throttle"
	"github.com/gatehouse/gatehouse/storage"
)

// Lifetimes are the token lifetimes the provider issues.
type Lifetimes struct {
	AuthorizeCode, AccessToken, JWTAccessToken, IDToken time.Duration
	RefreshIdle, RefreshAbsolute                        time.Duration
}

// ErrorPages renders error pages for people (never for clients).
type ErrorPages interface {
	Error(w http.ResponseWriter, r *http.Request, status int, title, message string)
	Unavailable(w http.ResponseWriter, r *http.Request)
	Internal(w http.ResponseWriter, r *http.Request, err error)
	LogoutConfirm(w http.ResponseWriter, r *http.Request, username string, hidden map[string]string)
	SignedOut(w http.ResponseWriter, r *http.Request)
}

// SessionEnder tells the clients of an ending browser session (back-channel logout).
type SessionEnder interface {
	EndSession(ctx context.Context, userID, sid string) error
}

// Config wires a Provider.
type Config struct {
	Issuer string
	Store  storage.Store
	// TokenSecrets are the HMAC keys of opaque tokens, current first.
	TokenSecrets [][]byte
	Signer       jwt.Signer
	SecretHasher *credential.SecretHasher
	Sessions     *session.Manager
	Pages        ErrorPages
	Logout       SessionEnder
	// ClientAuth limits client-authentication failures per source address.
	ClientAuth *throttle.ClientAuth
	Lifetimes  Lifetimes
	// SessionLifetime is the absolute lifetime of a browser session.
	SessionLifetime time.Duration
	// AllowPrivateOutbound lets jwks_uri fetches reach private addresses (dev, tests).
	AllowPrivateOutbound bool
	// Debug sends fosite's debug messages to clients (dev mode only).
	Debug bool
	// RegistrationEndpoint advertises /oauth2/register in discovery
	// (dynamic client registration is on).
	RegistrationEndpoint bool
	Logger               *slog.Logger
	// Metrics counts issued tokens and refresh-token reuse; nil counts nothing.
	Metrics *metrics.Metrics
	Now     func() time.Time
	// Paths of the pages the dispatcher sends people to.
	LoginPath, ConsentPath string
	// SecondFactorPath asks for a code; EnrollPath sets up an authenticator
	// app inside the flow.
	SecondFactorPath, EnrollPath string
}

// Provider holds the composed fosite provider and serves the protocol endpoints.
type Provider struct {
	cfg       Config
	fosite    *fosite.Fosite
	tokens    *tokenStrategy // fosite's, for the keys of prefetched records
	store     storage.Store
	signer    jwt.Signer
	cors      *cors
	discovery []byte
}

// fositeConfig overrides the parts of fosite's configuration that Gatehouse
// handles itself.
type fositeConfig struct {
	*fosite.Config
}

// GetMinParameterEntropy is 0 because fosite refuses a *missing* state when
// it is positive; Gatehouse checks state and nonce lengths itself (they are
// optional but must be at least 8 characters when present).
func (fositeConfig) GetMinParameterEntropy(context.Context) int { return 0 }

// NewProvider composes fosite with Gatehouse's storage, signer and strategies.
// Only the authorization code flow (with PKCE), refresh, client credentials,
// OpenID Connect, introspection and revocation are enabled.
func NewProvider(cfg Config) (*Provider, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	tokenURL := cfg.Issuer + "/oauth2/token"
	jwksClient := retryablehttp.NewClient()
	jwksClient.HTTPClient = outbound.NewClient(cfg.AllowPrivateOutbound)
	jwksClient.RetryMax = 1
	jwksClient.Logger = nil

	base := &fosite.Config{
		AccessTokenLifespan:            cfg.Lifetimes.AccessToken,
		RefreshTokenLifespan:           cfg.Lifetimes.RefreshIdle,
		AuthorizeCodeLifespan:          cfg.Lifetimes.AuthorizeCode,
		IDTokenLifespan:                cfg.Lifetimes.IDToken,
		IDTokenIssuer:                  cfg.Issuer,
		AccessTokenIssuer:              cfg.Issuer,
		SendDebugMessagesToClients:     cfg.Debug,
		ScopeStrategy:                  fosite.ExactScopeStrategy,
		AudienceMatchingStrategy:       fosite.ExactAudienceMatchingStrategy,
		EnforcePKCEForPublicClients:    true,
		EnablePKCEPlainChallengeMethod: false,
		AllowedPromptValues:            []string{"login", "none", "consent"},
		TokenURL:                       tokenURL,
		JWKSFetcherStrategy:            fosite.NewDefaultJWKSFetcherStrategy(fosite.JWKSFetcherWithHTTPClient(jwksClient)),
		RedirectSecureChecker:          fosite.IsRedirectURISecureStrict,
		RefreshTokenScopes:             []string{"offline_access"},
		ClientSecretsHasher:            cfg.SecretHasher,
		GlobalSecret:                   cfg.TokenSecrets[0],
		RotatedGlobalSecrets:           cfg.TokenSecrets[1:],
		JWTScopeClaimKey:               jwt.JWTScopeFieldString,
		OmitRedirectScopeParam:         true,
	}
	fc := fositeConfig{base}

	hmacStrategy := oauth2.NewHMACSHAStrategy(&hmac.HMACStrategy{Config: fc}, fc)
	strategy := &tokenStrategy{
		HMACSHAStrategy: hmacStrategy,
		signer:          cfg.Signer,
		issuer:          cfg.Issuer,
		jwtLifetime:     cfg.Lifetimes.JWTAccessToken,
	}
	idTokens := &openid.DefaultStrategy{Signer: cfg.Signer, Config: fc}
	validator := openid.NewOpenIDConnectRequestValidator(cfg.Signer, fc)
	store := cfg.Store

	explicit := &oauth2.AuthorizeExplicitGrantHandler{
		AccessTokenStrategy:    strategy,
		RefreshTokenStrategy:   strategy,
		AuthorizeCodeStrategy:  strategy,
		CoreStorage:            store,
		TokenRevocationStorage: store,
		Config:                 fc,
	}
	base.AuthorizeEndpointHandlers.Append(explicit)
	base.TokenEndpointHandlers.Append(explicit)

	clientCredentials := &oauth2.ClientCredentialsGrantHandler{
		HandleHelper: &oauth2.HandleHelper{AccessTokenStrategy: strategy, AccessTokenStorage: store, Config: fc},
		Config:       fc,
	}
	base.TokenEndpointHandlers.Append(clientCredentials)

	refresh := &oauth2.RefreshTokenGrantHandler{
		AccessTokenStrategy:    strategy,
		RefreshTokenStrategy:   strategy,
		TokenRevocationStorage: store,
		Config:                 fc,
	}
	base.TokenEndpointHandlers.Append(refresh)
	// After fosite's refresh handler: it re-checks the grant that one loaded.
	base.TokenEndpointHandlers.Append(&refreshPolicy{store: store, limit: cfg.Lifetimes.RefreshAbsolute, now: cfg.Now})

	oidcExplicit := &openid.OpenIDConnectExplicitHandler{
		OpenIDConnectRequestStorage:   store,
		IDTokenHandleHelper:           &openid.IDTokenHandleHelper{IDTokenStrategy: idTokens},
		OpenIDConnectRequestValidator: validator,
		Config:                        fc,
	}
	base.AuthorizeEndpointHandlers.Append(oidcExplicit)
	base.TokenEndpointHandlers.Append(oidcExplicit)

	oidcRefresh := &openid.OpenIDConnectRefreshHandler{
		IDTokenHandleHelper: &openid.IDTokenHandleHelper{IDTokenStrategy: idTokens},
		Config:              fc,
	}
	base.TokenEndpointHandlers.Append(oidcRefresh)

	base.TokenIntrospectionHandlers.Append(&oauth2.CoreValidator{CoreStrategy: strategy, CoreStorage: store, Config: fc})
	base.RevocationHandlers.Append(&oauth2.TokenRevocationHandler{
		TokenRevocationStorage: store,
		AccessTokenStrategy:    strategy,
		RefreshTokenStrategy:   strategy,
	})

	pkceHandler := &pkce.Handler{AuthorizeCodeStrategy: strategy, Storage: store, Config: fc}
	base.AuthorizeEndpointHandlers.Append(pkceHandler)
	base.TokenEndpointHandlers.Append(pkceHandler)
	for i, h := range base.TokenEndpointHandlers {
		base.TokenEndpointHandlers[i] = applicableOnly{h}
	}

	p := &Provider{
		cfg:    cfg,
		fosite: fosite.NewOAuth2Provider(store, fc),
		tokens: strategy,
		store:  store,
		signer: cfg.Signer,
		cors:   &cors{store: store, now: cfg.Now},
	}
	var err error
	if p.discovery, err = discoveryDocument(cfg.Issuer, cfg.RegistrationEndpoint); err != nil {
		return nil, err
	}
	return p, nil
}

// Preflight answers CORS preflight requests of the browser-callable endpoints.
func (p *Provider) Preflight(w http.ResponseWriter, r *http.Request) { p.cors.Preflight(w, r) }

// applicableOnly asks a token endpoint handler whether it handles a request
// before it populates the response. fosite populates through every
// handler, and each one that does not apply answers with an error carrying
// a stack trace: several per request, about 3 % of the token endpoint's CPU.
// (Assigned in place: TokenEndpointHandlers.Append keeps one handler per type.)
type applicableOnly struct {
	fosite.TokenEndpointHandler
}

func (h applicableOnly) PopulateTokenEndpointResponse(ctx context.Context, req fosite.AccessRequester, resp fosite.AccessResponder) error {
	if !h.CanHandleTokenEndpointRequest(ctx, req) {
		return fosite.ErrUnknownRequest
	}
	return h.TokenEndpointHandler.PopulateTokenEndpointResponse(ctx, req, resp)
}
