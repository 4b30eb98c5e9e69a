package oauth

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/gatehouse/gatehouse/server/policy"
)

// Supported values advertised by discovery; they must match what is enforced.
var (
	supportedScopes = []string{"openid", "profile", "email", "offline_access"}
	supportedClaims = []string{"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "sid",
		"at_hash", "name", "preferred_username", "updated_at", "email", "email_verified"}
)

// discoveryDocument is computed once: it depends only on the configuration.
func discoveryDocument(issuer string, registration bool) ([]byte, error) {
	doc := map[string]any{
		"issuer":                                           issuer,
		"authorization_endpoint":                           issuer + "/oauth2/auth",
		"token_endpoint":                                   issuer + "/oauth2/token",
		"userinfo_endpoint":                                issuer + "/userinfo",
		"jwks_uri":                                         issuer + "/.well-known/jwks.json",
		"revocation_endpoint":                              issuer + "/oauth2/revoke",
		"introspection_endpoint":                           issuer + "/oauth2/introspect",
		"end_session_endpoint":                             issuer + "/logout",
		"response_types_supported":                         []string{"code"},
		"response_modes_supported":                         []string{"query"},
		"grant_types_supported":                            []string{"authorization_code", "refresh_token", "client_credentials"},
		"code_challenge_methods_supported":                 []string{"S256"},
		"subject_types_supported":                          []string{"public"},
		"id_token_signing_alg_values_supported":            []string{"RS256", "ES256"},
		"token_endpoint_auth_methods_supported":            []string{"none", "client_secret_basic", "client_secret_post", "private_key_jwt"},
		"token_endpoint_auth_signing_alg_values_supported": []string{"RS256", "ES256"},
		"revocation_endpoint_auth_methods_supported":       []string{"none", "client_secret_basic", "client_secret_post", "private_key_jwt"},
		"introspection_endpoint_auth_methods_supported":    []string{"client_secret_basic", "client_secret_post", "private_key_jwt"},
		"scopes_supported":                                 supportedScopes,
		"claims_supported":                                 supportedClaims,
		"acr_values_supported":                             policy.ACRValues,
		"prompt_values_supported":                          []string{"none", "login", "consent"},
		"claims_parameter_supported":                       false,
		"request_parameter_supported":                      false,
		"request_uri_parameter_supported":                  false,
		"authorization_response_iss_parameter_supported":   true,
		"userinfo_signing_alg_values_supported":            []string{"none"},
	}
	if registration {
		doc["registration_endpoint"] = issuer + "/oauth2/register"
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("encode discovery document: %w", err)
	}
	return b, nil
}

// Discovery serves /.well-known/openid-configuration.
func (p *Provider) Discovery(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "public, max-age=300")
	h.Set("Access-Control-Allow-Origin", "*")
	_, _ = w.Write(p.discovery)
}
