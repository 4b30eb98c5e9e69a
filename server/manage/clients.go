package manage

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gatehouse/gatehouse/server/credential"
	"github.com/gatehouse/gatehouse/storage"
)

// Grant types a client may register.
const (
	GrantAuthorizationCode = "authorization_code"
	GrantRefreshToken      = "refresh_token"
	GrantClientCredentials = "client_credentials"
)

// ID token signing algorithms a client may register.
const (
	AlgRS256 = "RS256"
	AlgES256 = "ES256"
)

// DefaultScopes are registered when a client asks for none.
var DefaultScopes = []string{"openid", "profile", "email", "offline_access"}

// DefaultGrantTypes are registered when a client asks for none.
var DefaultGrantTypes = []string{GrantAuthorizationCode, GrantRefreshToken}

const (
	maxClientNameLength = 100
	clientIDBytes       = 16
)

// ClientSpec is a client registration; zero values take the defaults.
type ClientSpec struct {
	Name                   string
	RedirectURIs           []string
	PostLogoutRedirectURIs []string
	// GrantTypes default to DefaultGrantTypes.
	GrantTypes []string
	// Scopes default to DefaultScopes; an entry may hold several
	// space-separated scopes.
	Scopes []string
	// Public marks a client that cannot keep a secret (a SPA or native app).
	Public bool
	// TokenEndpointAuthMethod defaults to none for public clients,
	// private_key_jwt when a JWKS is given, client_secret_basic otherwise.
	TokenEndpointAuthMethod string
	// JWKSURI (https) or JWKS (a JSON Web Key Set of public keys) hold the
	// keys of a private_key_jwt client.
	JWKSURI string
	JWKS    []byte
	// TokenEndpointAuthSigningAlg is the alg of private_key_jwt assertions;
	// the default follows the keys of JWKS (ES256 if all are P-256), else RS256.
	TokenEndpointAuthSigningAlg string
	// SkipConsent marks a first-party client whose users are not asked.
	SkipConsent bool
	// RequireMFA makes the second factor mandatory at every authorization.
	RequireMFA bool
	// IDTokenSigningAlg is RS256 (default) or ES256.
	IDTokenSigningAlg string
	// AccessTokenFormat is opaque (default) or jwt.
	AccessTokenFormat string
	Audience          []string
	// BackchannelLogoutURI receives logout tokens when a session of the
	// client ends (https, or http on a loopback host).
	BackchannelLogoutURI string
	// RegistrationTokenDigest is the digest of the RFC 7592 registration
	// access token of a dynamically registered client.
	RegistrationTokenDigest []byte
}

// CreateClient validates spec, registers the client and returns it with its
// secret. The secret is returned only here and only for clients that
// authenticate with one; the store keeps a keyed digest.
func (s *Service) CreateClient(ctx context.Context, spec ClientSpec) (*storage.Client, string, error) {
	c, err := s.clientFromSpec(spec)
	if err != nil {
		return nil, "", err
	}
	c.ID = credential.RandomID(clientIDBytes)
	c.RegistrationTokenDigest = spec.RegistrationTokenDigest
	secret := ""
	if c.TokenEndpointAuthMethod == storage.AuthMethodClientSecretBasic || c.TokenEndpointAuthMethod == storage.AuthMethodClientSecretPost {
		if secret, c.SecretDigest, err = s.newClientSecret(ctx); err != nil {
			return nil, "", err
		}
	}
	now := s.now().UTC()
	c.CreatedAt, c.UpdatedAt = now, now
	if err := s.store.CreateClient(ctx, c); err != nil {
		return nil, "", fmt.Errorf("create client %q: %w", c.Name, err)
	}
	return c, secret, nil
}

// newClientSecret returns a fresh secret and its digest.
func (s *Service) newClientSecret(ctx context.Context) (string, []byte, error) {
	if s.secrets == nil {
		return "", nil, errors.New("manage: no client secret hasher configured")
	}
	secret, err := credential.NewClientSecret()
	if err != nil {
		return "", nil, fmt.Errorf("generate client secret: %w", err)
	}
	digest, err := s.secrets.Hash(ctx, []byte(secret))
	if err != nil {
		return "", nil, fmt.Errorf("digest client secret: %w", err)
	}
	return secret, digest, nil
}

// ListClients returns every registered client.
func (s *Service) ListClients(ctx context.Context) ([]*storage.Client, error) {
	cs, err := s.store.ListClients(ctx)
	if err != nil {
		return nil, fmt.Errorf("list clients: %w", err)
	}
	return cs, nil
}

// GetClient returns the client with id, or a *NotFoundError.
func (s *Service) GetClient(ctx context.Context, id string) (*storage.Client, error) {
	c, err := s.store.FindClient(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, &NotFoundError{Kind: "client", ID: id}
	}
	if err != nil {
		return nil, fmt.Errorf("load client %q: %w", id, err)
	}
	return c, nil
}

// DeleteClient deletes the client; the store revokes its tokens and codes and
// forgets the consents given to it.
func (s *Service) DeleteClient(ctx context.Context, id string) error {
	err := s.store.DeleteClient(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return &NotFoundError{Kind: "client", ID: id}
	}
	if err != nil {
		return fmt.Errorf("delete client %q: %w", id, err)
	}
	return nil
}

// clientFromSpec validates spec and fills in the defaults.
func (s *Service) clientFromSpec(spec ClientSpec) (*storage.Client, error) {
	name := strings.TrimSpace(spec.Name)
	switch {
	case name == "":
		return nil, invalid("client_name", "a name is required")
	case utf8.RuneCountInString(name) > maxClientNameLength:
		return nil, invalid("client_name", "at most %d characters", maxClientNameLength)
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return nil, invalid("client_name", "must not contain control characters")
	}
	c := &storage.Client{
		Name:          name,
		Public:        spec.Public,
		SkipConsent:   spec.SkipConsent,
		RequireMFA:    spec.RequireMFA,
		ResponseTypes: []string{"code"},
	}
	var err error
	if c.GrantTypes, err = grantTypes(spec); err != nil {
		return nil, err
	}
	if c.RedirectURIs, err = redirectURIs("redirect_uris", spec.RedirectURIs); err != nil {
		return nil, err
	}
	if slices.Contains(c.GrantTypes, GrantAuthorizationCode) && len(c.RedirectURIs) == 0 {
		return nil, invalid("redirect_uris", "the authorization_code grant needs at least one redirect URI")
	}
	if c.PostLogoutRedirectURIs, err = redirectURIs("post_logout_redirect_uris", spec.PostLogoutRedirectURIs); err != nil {
		return nil, err
	}
	if spec.BackchannelLogoutURI != "" {
		// Same rules as redirect URIs; the outbound client also refuses
		// private addresses at send time unless --allow-private-backchannel.
		if err := checkRedirectURI("backchannel_logout_uri", spec.BackchannelLogoutURI); err != nil {
			return nil, err
		}
		c.BackchannelLogoutURI = spec.BackchannelLogoutURI
	}
	if c.Scopes, err = scopes(spec.Scopes); err != nil {
		return nil, err
	}
	if c.Audience, err = audience(spec.Audience); err != nil {
		return nil, err
	}
	if c.IDTokenSigningAlg, err = oneOf("id_token_signed_response_alg", spec.IDTokenSigningAlg, AlgRS256, AlgRS256, AlgES256); err != nil {
		return nil, err
	}
	if c.AccessTokenFormat, err = oneOf("access_token_format", spec.AccessTokenFormat, storage.AccessTokenOpaque, storage.AccessTokenOpaque, storage.AccessTokenJWT); err != nil {
		return nil, err
	}
	if err := clientAuthentication(spec, c); err != nil {
		return nil, err
	}
	return c, nil
}

func grantTypes(spec ClientSpec) ([]string, error) {
	if len(spec.GrantTypes) == 0 {
		return slices.Clone(DefaultGrantTypes), nil
	}
	var out []string
	for _, g := range spec.GrantTypes {
		switch g {
		case GrantAuthorizationCode, GrantRefreshToken, GrantClientCredentials:
		default:
			return nil, invalid("grant_types", "%q is not supported (use authorization_code, refresh_token or client_credentials)", g)
		}
		if !slices.Contains(out, g) {
			out = append(out, g)
		}
	}
	if slices.Contains(out, GrantRefreshToken) && !slices.Contains(out, GrantAuthorizationCode) {
		return nil, invalid("grant_types", "refresh_token is only issued together with authorization_code")
	}
	if spec.Public && slices.Contains(out, GrantClientCredentials) {
		return nil, invalid("grant_types", "a public client cannot use client_credentials")
	}
	return out, nil
}

// redirectURIs checks each URI and drops duplicates; the exact strings are
// kept because redirect URIs are matched exactly.
func redirectURIs(field string, uris []string) ([]string, error) {
	var out []string
	for _, raw := range uris {
		if err := checkRedirectURI(field, raw); err != nil {
			return nil, err
		}
		if !slices.Contains(out, raw) {
			out = append(out, raw)
		}
	}
	return out, nil
}

func checkRedirectURI(field, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || raw != strings.TrimSpace(raw) || !u.IsAbs() || u.Host == "" || u.Opaque != "" {
		return invalid(field, "%q is not an absolute URL", raw)
	}
	if strings.Contains(raw, "#") {
		return invalid(field, "%q must not contain a fragment", raw)
	}
	if u.User != nil {
		return invalid(field, "%q must not contain user information", raw)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if isLoopbackHost(u.Hostname()) {
			return nil
		}
		return invalid(field, "%q: http is allowed only on a loopback host (127.0.0.1, [::1], localhost); use https", raw)
	default:
		return invalid(field, "%q: the scheme must be https (or http on a loopback host)", raw)
	}
}

func isLoopbackHost(host string) bool {
	return host == "127.0.0.1" || host == "::1" || strings.EqualFold(host, "localhost")
}

func scopes(in []string) ([]string, error) {
	var out []string
	for _, entry := range in {
		for _, sc := range strings.Fields(entry) {
			if !validScopeToken(sc) {
				return nil, invalid("scope", "%q is not a valid scope", sc)
			}
			if !slices.Contains(out, sc) {
				out = append(out, sc)
			}
		}
	}
	if len(out) == 0 {
		return slices.Clone(DefaultScopes), nil
	}
	return out, nil
}

// validScopeToken follows RFC 6749 section 3.3 (scope-token = 1*NQCHAR).
func validScopeToken(s string) bool {
	for i := 0; i < len(s); i++ {
		b := s[i]
		if b < 0x21 || b > 0x7e || b == '"' || b == '\\' {
			return false
		}
	}
	return s != ""
}

func audience(in []string) ([]string, error) {
	var out []string
	for _, a := range in {
		if a == "" || strings.IndexFunc(a, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
			return nil, invalid("audience", "%q is not a valid audience (no spaces or control characters)", a)
		}
		if !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out, nil
}

// oneOf returns v, or def when v is empty, if it is one of allowed.
func oneOf(field, v, def string, allowed ...string) (string, error) {
	if v == "" {
		return def, nil
	}
	if !slices.Contains(allowed, v) {
		return "", invalid(field, "%q is not supported (use %s)", v, strings.Join(allowed, " or "))
	}
	return v, nil
}

// ClientUpdate changes a client's registration; nil fields stay as they are.
// Authentication (public, method, keys) cannot change: register a new client.
type ClientUpdate struct {
	Name                   *string
	RedirectURIs           *[]string
	PostLogoutRedirectURIs *[]string
	Scopes                 *[]string
	GrantTypes             *[]string
	Audience               *[]string
	SkipConsent            *bool
	RequireMFA             *bool
	BackchannelLogoutURI   *string
	AccessTokenFormat      *string
}

// UpdateClient applies u with the same validation as CreateClient and
// returns the updated client, a *ValidationError or a *NotFoundError.
func (s *Service) UpdateClient(ctx context.Context, id string, u ClientUpdate) (*storage.Client, error) {
	var out *storage.Client
	err := s.store.UpdateClient(ctx, id, func(c *storage.Client) error {
		spec := specOf(c)
		setIf(&spec.Name, u.Name)
		setIf(&spec.RedirectURIs, u.RedirectURIs)
		setIf(&spec.PostLogoutRedirectURIs, u.PostLogoutRedirectURIs)
		setIf(&spec.Scopes, u.Scopes)
		setIf(&spec.GrantTypes, u.GrantTypes)
		setIf(&spec.Audience, u.Audience)
		setIf(&spec.SkipConsent, u.SkipConsent)
		setIf(&spec.RequireMFA, u.RequireMFA)
		setIf(&spec.BackchannelLogoutURI, u.BackchannelLogoutURI)
		setIf(&spec.AccessTokenFormat, u.AccessTokenFormat)
		n, err := s.clientFromSpec(spec)
		if err != nil {
			return err
		}
		c.Name, c.RedirectURIs, c.PostLogoutRedirectURIs = n.Name, n.RedirectURIs, n.PostLogoutRedirectURIs
		c.Scopes, c.GrantTypes, c.Audience = n.Scopes, n.GrantTypes, n.Audience
		c.SkipConsent, c.RequireMFA, c.BackchannelLogoutURI = n.SkipConsent, n.RequireMFA, n.BackchannelLogoutURI
		c.AccessTokenFormat = n.AccessTokenFormat
		c.UpdatedAt = s.now().UTC()
		out = c
		return nil
	})
	var ve *ValidationError
	switch {
	case errors.As(err, &ve):
		return nil, ve
	case errors.Is(err, storage.ErrNotFound):
		return nil, &NotFoundError{Kind: "client", ID: id}
	case err != nil:
		return nil, fmt.Errorf("update client %q: %w", id, err)
	}
	return out, nil
}

// specOf is the registration c was created from, as far as it matters for
// validation.
func specOf(c *storage.Client) ClientSpec {
	return ClientSpec{
		Name: c.Name, RedirectURIs: c.RedirectURIs, PostLogoutRedirectURIs: c.PostLogoutRedirectURIs,
		GrantTypes: c.GrantTypes, Scopes: c.Scopes, Public: c.Public,
		TokenEndpointAuthMethod: c.TokenEndpointAuthMethod, JWKSURI: c.JWKSURI, JWKS: c.JWKS,
		TokenEndpointAuthSigningAlg: c.TokenEndpointAuthSigningAlg, SkipConsent: c.SkipConsent,
		RequireMFA: c.RequireMFA, IDTokenSigningAlg: c.IDTokenSigningAlg, AccessTokenFormat: c.AccessTokenFormat,
		Audience: c.Audience, BackchannelLogoutURI: c.BackchannelLogoutURI,
	}
}

func setIf[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

// MaxSecretGrace bounds how long a rotated client secret stays valid.
const MaxSecretGrace = 30 * 24 * time.Hour

// RotateClientSecret gives a client that authenticates with a secret a new
// one and returns it (shown only here). The previous secret stays valid for
// grace (0 ends it at once); a rotation replaces any earlier previous secret.
func (s *Service) RotateClientSecret(ctx context.Context, id string, grace time.Duration) (*storage.Client, string, error) {
	if grace < 0 || grace > MaxSecretGrace {
		return nil, "", invalid("grace", "must be between 0 and %s", MaxSecretGrace)
	}
	secret, digest, err := s.newClientSecret(ctx)
	if err != nil {
		return nil, "", err
	}
	var out *storage.Client
	err = s.store.UpdateClient(ctx, id, func(c *storage.Client) error {
		if c.TokenEndpointAuthMethod != storage.AuthMethodClientSecretBasic && c.TokenEndpointAuthMethod != storage.AuthMethodClientSecretPost {
			return invalid("client_id", "the client authenticates with %s, not with a secret", c.TokenEndpointAuthMethod)
		}
		c.RotatedSecretDigest, c.RotatedSecretExpiresAt = nil, nil
		if grace > 0 {
			until := s.now().UTC().Add(grace)
			c.RotatedSecretDigest, c.RotatedSecretExpiresAt = c.SecretDigest, &until
		}
		c.SecretDigest = digest
		c.UpdatedAt = s.now().UTC()
		out = c
		return nil
	})
	var ve *ValidationError
	switch {
	case errors.As(err, &ve):
		return nil, "", ve
	case errors.Is(err, storage.ErrNotFound):
		return nil, "", &NotFoundError{Kind: "client", ID: id}
	case err != nil:
		return nil, "", fmt.Errorf("rotate secret of client %q: %w", id, err)
	}
	return out, secret, nil
}
