package storage

import (
	"encoding/json"
	"time"

	jose "github.com/go-jose/go-jose/v3" // fosite's client interface speaks go-jose v3; only this boundary uses it
	"github.com/ory/fosite"
)

// Token endpoint authentication methods.
const (
	AuthMethodNone              = "none"
	AuthMethodClientSecretBasic = "client_secret_basic"
	AuthMethodClientSecretPost  = "client_secret_post"
	AuthMethodPrivateKeyJWT     = "private_key_jwt"
)

// Access token formats.
const (
	AccessTokenOpaque = "opaque"
	AccessTokenJWT    = "jwt"
)

// Client is a registered OAuth 2.0 / OpenID Connect client. It implements
// fosite.OpenIDConnectClient so that fosite can use it directly.
type Client struct {
	ID string
	// SecretDigest is the keyed, versioned digest of the client secret
	// (empty for public and private_key_jwt clients).
	SecretDigest []byte
	// RotatedSecretDigest is the digest of the previous secret, accepted
	// until RotatedSecretExpiresAt (clients rotate-secret --grace).
	RotatedSecretDigest    []byte
	RotatedSecretExpiresAt *time.Time
	// RegistrationTokenDigest is the keyed digest of the RFC 7592
	// registration access token (dynamically registered clients only).
	RegistrationTokenDigest []byte
	Name                    string
	RedirectURIs            []string
	PostLogoutRedirectURIs  []string
	GrantTypes              []string
	ResponseTypes           []string
	Scopes                  []string
	Audience                []string
	Public                  bool
	TokenEndpointAuthMethod string
	JWKSURI                 string
	// JWKS is the client's public JSON Web Key Set (for private_key_jwt), as JSON.
	JWKS []byte
	// TokenEndpointAuthSigningAlg is the alg of private_key_jwt assertions (RS256 or ES256).
	TokenEndpointAuthSigningAlg string
	SkipConsent                 bool
	// RequireMFA makes the second factor mandatory for every authorization.
	RequireMFA bool
	// BackchannelLogoutURI receives logout tokens (OpenID Connect
	// Back-Channel Logout 1.0); empty means none.
	BackchannelLogoutURI string
	IDTokenSigningAlg    string
	AccessTokenFormat    string
	CreatedAt            time.Time
	UpdatedAt            time.Time
	// Roles are the roles the client holds, by name, read with the client
	// (the store reads both in one query: the token endpoint needs them).
	// Writes ignore them: GrantClientRole and RevokeClientRole change them.
	Roles []*Role
}

var (
	_ fosite.OpenIDConnectClient      = (*Client)(nil)
	_ fosite.ClientWithSecretRotation = (*Client)(nil)
)

// GetRotatedHashes returns the previous secret's digest while its grace
// period lasts; fosite tries it when the current secret does not match.
func (c *Client) GetRotatedHashes() [][]byte {
	if len(c.RotatedSecretDigest) == 0 || c.RotatedSecretExpiresAt == nil || !time.Now().Before(*c.RotatedSecretExpiresAt) {
		return nil
	}
	return [][]byte{c.RotatedSecretDigest}
}

func (c *Client) GetID() string                   { return c.ID }
func (c *Client) GetHashedSecret() []byte         { return c.SecretDigest }
func (c *Client) GetRedirectURIs() []string       { return c.RedirectURIs }
func (c *Client) GetGrantTypes() fosite.Arguments { return c.GrantTypes }
func (c *Client) GetScopes() fosite.Arguments     { return c.Scopes }
func (c *Client) IsPublic() bool                  { return c.Public }
func (c *Client) GetAudience() fosite.Arguments   { return c.Audience }
func (c *Client) GetRequestURIs() []string        { return nil }
func (c *Client) GetJSONWebKeysURI() string       { return c.JWKSURI }

// GetResponseTypes returns the registered response types; Gatehouse supports
// only the authorization code flow.
func (c *Client) GetResponseTypes() fosite.Arguments {
	if len(c.ResponseTypes) == 0 {
		return fosite.Arguments{"code"}
	}
	return c.ResponseTypes
}

// GetJSONWebKeys returns the client's registered key set, or nil.
func (c *Client) GetJSONWebKeys() *jose.JSONWebKeySet {
	if len(c.JWKS) == 0 {
		return nil
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(c.JWKS, &set); err != nil {
		return nil
	}
	return &set
}

// GetRequestObjectSigningAlgorithm: request objects are not supported.
func (c *Client) GetRequestObjectSigningAlgorithm() string { return "" }

// GetTokenEndpointAuthMethod returns the registered method; fosite enforces it.
func (c *Client) GetTokenEndpointAuthMethod() string {
	if c.TokenEndpointAuthMethod == "" {
		if c.Public {
			return AuthMethodNone
		}
		return AuthMethodClientSecretBasic
	}
	return c.TokenEndpointAuthMethod
}

// GetTokenEndpointAuthSigningAlgorithm returns the alg fosite requires of
// private_key_jwt assertions (RS256 unless registered otherwise).
func (c *Client) GetTokenEndpointAuthSigningAlgorithm() string {
	if c.TokenEndpointAuthSigningAlg == "" {
		return "RS256"
	}
	return c.TokenEndpointAuthSigningAlg
}
