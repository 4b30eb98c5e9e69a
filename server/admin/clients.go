package admin

import (
	"net/http"
	"time"

	"github.com/gatehouse/gatehouse/server/manage"
	"github.com/gatehouse/gatehouse/storage"
)

// clientJSON is a client as the API shows it: never its secret or digest.
type clientJSON struct {
	ID                      string    `json:"client_id"`
	Name                    string    `json:"client_name"`
	RedirectURIs            []string  `json:"redirect_uris"`
	PostLogoutRedirectURIs  []string  `json:"post_logout_redirect_uris"`
	GrantTypes              []string  `json:"grant_types"`
	Scopes                  []string  `json:"scopes"`
	Audience                []string  `json:"audience"`
	Public                  bool      `json:"public"`
	TokenEndpointAuthMethod string    `json:"token_endpoint_auth_method"`
	JWKSURI                 string    `json:"jwks_uri,omitempty"`
	SkipConsent             bool      `json:"skip_consent"`
	RequireMFA              bool      `json:"require_mfa"`
	BackchannelLogoutURI    string    `json:"backchannel_logout_uri,omitempty"`
	IDTokenSigningAlg       string    `json:"id_token_signed_response_alg"`
	AccessTokenFormat       string    `json:"access_token_format"`
	CreatedAt               time.Time `json:"created_at"`
	UpdatedAt               time.Time `json:"updated_at"`
}

func clientOut(c *storage.Client) clientJSON {
	return clientJSON{
		ID: c.ID, Name: c.Name, RedirectURIs: nonNil(c.RedirectURIs), PostLogoutRedirectURIs: nonNil(c.PostLogoutRedirectURIs),
		GrantTypes: nonNil(c.GrantTypes), Scopes: nonNil(c.Scopes), Audience: nonNil(c.Audience), Public: c.Public,
		TokenEndpointAuthMethod: c.TokenEndpointAuthMethod, JWKSURI: c.JWKSURI, SkipConsent: c.SkipConsent,
		RequireMFA: c.RequireMFA, BackchannelLogoutURI: c.BackchannelLogoutURI, IDTokenSigningAlg: c.IDTokenSigningAlg,
		AccessTokenFormat: c.AccessTokenFormat, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// clientCreate is the body of POST /admin/clients.
type clientCreate struct {
	Name                        string   `json:"client_name"`
	RedirectURIs                []string `json:"redirect_uris"`
	PostLogoutRedirectURIs      []string `json:"post_logout_redirect_uris"`
	GrantTypes                  []string `json:"grant_types"`
	Scopes                      []string `json:"scopes"`
	Audience                    []string `json:"audience"`
	Public                      bool     `json:"public"`
	TokenEndpointAuthMethod     string   `json:"token_endpoint_auth_method"`
	JWKSURI                     string   `json:"jwks_uri"`
	TokenEndpointAuthSigningAlg string   `json:"token_endpoint_auth_signing_alg"`
	SkipConsent                 bool     `json:"skip_consent"`
	RequireMFA                  bool     `json:"require_mfa"`
	BackchannelLogoutURI        string   `json:"backchannel_logout_uri"`
	IDTokenSigningAlg           string   `json:"id_token_signed_response_alg"`
	AccessTokenFormat           string   `json:"access_token_format"`
}

// clientPatch is the body of PATCH /admin/clients/{id}; absent fields stay.
type clientPatch struct {
	Name                   *string   `json:"client_name"`
	RedirectURIs           *[]string `json:"redirect_uris"`
	PostLogoutRedirectURIs *[]string `json:"post_logout_redirect_uris"`
	GrantTypes             *[]string `json:"grant_types"`
	Scopes                 *[]string `json:"scopes"`
	Audience               *[]string `json:"audience"`
	SkipConsent            *bool     `json:"skip_consent"`
	RequireMFA             *bool     `json:"require_mfa"`
	BackchannelLogoutURI   *string   `json:"backchannel_logout_uri"`
	AccessTokenFormat      *string   `json:"access_token_format"`
}

func (h *Handler) listClients(w http.ResponseWriter, r *http.Request) {
	cs, err := h.cfg.Manage.ListClients(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := make([]clientJSON, len(cs))
	for i, c := range cs {
		out[i] = clientOut(c)
	}
	if p, ok := page(w, r, out); ok {
		writeJSON(w, http.StatusOK, p)
	}
}

func (h *Handler) createClient(w http.ResponseWriter, r *http.Request) {
	var in clientCreate
	if !decode(w, r, &in) {
		return
	}
	c, secret, err := h.cfg.Manage.CreateClient(r.Context(), manage.ClientSpec{
		Name: in.Name, RedirectURIs: in.RedirectURIs, PostLogoutRedirectURIs: in.PostLogoutRedirectURIs,
		GrantTypes: in.GrantTypes, Scopes: in.Scopes, Audience: in.Audience, Public: in.Public,
		TokenEndpointAuthMethod: in.TokenEndpointAuthMethod, JWKSURI: in.JWKSURI,
		TokenEndpointAuthSigningAlg: in.TokenEndpointAuthSigningAlg, SkipConsent: in.SkipConsent,
		RequireMFA: in.RequireMFA, BackchannelLogoutURI: in.BackchannelLogoutURI,
		IDTokenSigningAlg: in.IDTokenSigningAlg, AccessTokenFormat: in.AccessTokenFormat,
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/admin/clients/"+c.ID)
	writeJSON(w, http.StatusCreated, struct {
		Client clientJSON `json:"client"`
		Secret string     `json:"client_secret,omitempty"`
	}{clientOut(c), secret})
}

func (h *Handler) getClient(w http.ResponseWriter, r *http.Request) {
	c, err := h.cfg.Manage.GetClient(r.Context(), r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, clientOut(c))
}

func (h *Handler) patchClient(w http.ResponseWriter, r *http.Request) {
	var in clientPatch
	if !decode(w, r, &in) {
		return
	}
	c, err := h.cfg.Manage.UpdateClient(r.Context(), r.PathValue("id"), manage.ClientUpdate{
		Name: in.Name, RedirectURIs: in.RedirectURIs, PostLogoutRedirectURIs: in.PostLogoutRedirectURIs,
		GrantTypes: in.GrantTypes, Scopes: in.Scopes, Audience: in.Audience, SkipConsent: in.SkipConsent,
		RequireMFA: in.RequireMFA, BackchannelLogoutURI: in.BackchannelLogoutURI, AccessTokenFormat: in.AccessTokenFormat,
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, clientOut(c))
}

func (h *Handler) deleteClient(w http.ResponseWriter, r *http.Request) {
	if err := h.cfg.Manage.DeleteClient(r.Context(), r.PathValue("id")); err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *Handler) grantClientRole(w http.ResponseWriter, r *http.Request) {
	if err := h.cfg.Manage.GrantClientRole(r.Context(), r.PathValue("id"), r.PathValue("role")); err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *Handler) revokeClientRole(w http.ResponseWriter, r *http.Request) {
	if err := h.cfg.Manage.RevokeClientRole(r.Context(), r.PathValue("id"), r.PathValue("role")); err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// secretRotate is the body of POST /admin/clients/{id}/rotate-secret.
type secretRotate struct {
	// Grace is a Go duration ("24h") during which the old secret still
	// works; empty or "0s" ends it at once.
	Grace string `json:"grace"`
}

func (h *Handler) rotateSecret(w http.ResponseWriter, r *http.Request) {
	var in secretRotate
	if !decodeOptional(w, r, &in) {
		return
	}
	var grace time.Duration
	if in.Grace != "" {
		d, err := time.ParseDuration(in.Grace)
		if err != nil {
			writeProblem(w, http.StatusUnprocessableEntity, "Unprocessable Entity", "grace: not a duration such as 24h", map[string]string{"grace": "not a duration such as 24h"})
			return
		}
		grace = d
	}
	c, secret, err := h.cfg.Manage.RotateClientSecret(r.Context(), r.PathValue("id"), grace)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := clientOut(c)
	writeJSON(w, http.StatusOK, struct {
		Client         clientJSON `json:"client"`
		Secret         string     `json:"client_secret"`
		OldSecretUntil *time.Time `json:"previous_secret_expires_at,omitempty"`
	}{out, secret, c.RotatedSecretExpiresAt})
}
