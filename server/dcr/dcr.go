package dcr

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"

	"github.com/gatehouse/gatehouse/server/manage"
	"github.com/gatehouse/gatehouse/server/outbound"
	"github.com/gatehouse/gatehouse/server/secret"
	"github.com/gatehouse/gatehouse/storage"
)

// Path is where clients register; a client's configuration is Path/{id}.
const Path = "/oauth2/register"

const (
	maxBodyBytes = 64 << 10
	tokenBytes   = 32
	defaultName  = "Dynamically registered client"
)

// Config configures the registration endpoint.
type Config struct {
	Issuer string
	Manage *manage.Service
	// Tokens digests registration access tokens.
	Tokens *secret.Digester
	// InitialTokens are the initial access tokens a registrant must present.
	InitialTokens []string
	Logger        *slog.Logger
}

// Handler serves the registration endpoints.
type Handler struct {
	cfg     Config
	initial [][sha256.Size]byte
}

// New returns the handler; it refuses a configuration without initial tokens.
func New(cfg Config) (*Handler, error) {
	if cfg.Manage == nil || cfg.Tokens == nil {
		return nil, errors.New("dcr: Manage and Tokens are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	h := &Handler{cfg: cfg}
	for _, t := range cfg.InitialTokens {
		if t = strings.TrimSpace(t); t != "" {
			h.initial = append(h.initial, sha256.Sum256([]byte(t)))
		}
	}
	if len(h.initial) == 0 {
		return nil, errors.New("dcr: at least one initial access token is required")
	}
	return h, nil
}

// Register mounts the endpoints on mux.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.HandleFunc("POST "+Path, h.create)
	mux.HandleFunc("GET "+Path+"/{id}", h.read)
	mux.HandleFunc("PUT "+Path+"/{id}", h.update)
	mux.HandleFunc("DELETE "+Path+"/{id}", h.remove)
}

// metadata is the client metadata of RFC 7591 section 2 that Gatehouse
// recognises; unknown members are ignored, refused ones are detected.
type metadata struct {
	RedirectURIs             []string        `json:"redirect_uris"`
	ClientName               string          `json:"client_name"`
	GrantTypes               []string        `json:"grant_types"`
	ResponseTypes            []string        `json:"response_types"`
	Scope                    string          `json:"scope"`
	TokenEndpointAuthMethod  string          `json:"token_endpoint_auth_method"`
	PostLogoutRedirectURIs   []string        `json:"post_logout_redirect_uris"`
	BackchannelLogoutURI     string          `json:"backchannel_logout_uri"`
	IDTokenSignedResponseAlg string          `json:"id_token_signed_response_alg"`
	ClientID                 string          `json:"client_id"`
	SkipConsent              json.RawMessage `json:"skip_consent"`
	JWKS                     json.RawMessage `json:"jwks"`
	JWKSURI                  json.RawMessage `json:"jwks_uri"`
}

// response is the client information response (RFC 7591 section 3.2.1).
type response struct {
	ClientID                 string   `json:"client_id"`
	ClientSecret             string   `json:"client_secret,omitempty"`
	ClientIDIssuedAt         int64    `json:"client_id_issued_at"`
	ClientSecretExpiresAt    *int64   `json:"client_secret_expires_at,omitempty"`
	RegistrationAccessToken  string   `json:"registration_access_token,omitempty"`
	RegistrationClientURI    string   `json:"registration_client_uri"`
	ClientName               string   `json:"client_name"`
	RedirectURIs             []string `json:"redirect_uris"`
	PostLogoutRedirectURIs   []string `json:"post_logout_redirect_uris,omitempty"`
	GrantTypes               []string `json:"grant_types"`
	ResponseTypes            []string `json:"response_types"`
	Scope                    string   `json:"scope"`
	TokenEndpointAuthMethod  string   `json:"token_endpoint_auth_method"`
	BackchannelLogoutURI     string   `json:"backchannel_logout_uri,omitempty"`
	IDTokenSignedResponseAlg string   `json:"id_token_signed_response_alg"`
}

func (h *Handler) create(w http.ResponseWriter, r *http.Request) {
	if !h.initialTokenValid(r) {
		unauthorized(w)
		return
	}
	m, ok := decode(w, r)
	if !ok {
		return
	}
	spec, err := m.spec()
	if err != nil {
		fail(w, err)
		return
	}
	token, digest, err := h.newToken()
	if err != nil {
		h.internal(w, r, err)
		return
	}
	spec.RegistrationTokenDigest = digest
	c, clientSecret, err := h.cfg.Manage.CreateClient(r.Context(), spec)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := h.out(c)
	out.ClientSecret, out.RegistrationAccessToken = clientSecret, token
	if clientSecret != "" {
		never := int64(0)
		out.ClientSecretExpiresAt = &never
	}
	writeJSON(w, http.StatusCreated, out)
}

func (h *Handler) read(w http.ResponseWriter, r *http.Request) {
	c, ok := h.authorized(w, r)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, h.out(c))
}

func (h *Handler) update(w http.ResponseWriter, r *http.Request) {
	c, ok := h.authorized(w, r)
	if !ok {
		return
	}
	m, ok := decode(w, r)
	if !ok {
		return
	}
	if m.ClientID != "" && m.ClientID != c.ID {
		fail(w, invalidMetadata("client_id cannot change"))
		return
	}
	spec, err := m.spec()
	if err != nil {
		fail(w, err)
		return
	}
	// Authentication and signing cannot change: register a new client.
	if spec.Public != c.Public || spec.TokenEndpointAuthMethod != c.TokenEndpointAuthMethod {
		fail(w, invalidMetadata("token_endpoint_auth_method cannot change"))
		return
	}
	if alg := cmpOr(spec.IDTokenSigningAlg, manage.AlgRS256); alg != c.IDTokenSigningAlg {
		fail(w, invalidMetadata("id_token_signed_response_alg cannot change"))
		return
	}
	noConsentSkip := false
	upd, err := h.cfg.Manage.UpdateClient(r.Context(), c.ID, manage.ClientUpdate{
		Name:                   &spec.Name,
		RedirectURIs:           &spec.RedirectURIs,
		PostLogoutRedirectURIs: &spec.PostLogoutRedirectURIs,
		Scopes:                 &spec.Scopes,
		GrantTypes:             &spec.GrantTypes,
		BackchannelLogoutURI:   &spec.BackchannelLogoutURI,
		SkipConsent:            &noConsentSkip,
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, h.out(upd))
}

func (h *Handler) remove(w http.ResponseWriter, r *http.Request) {
	c, ok := h.authorized(w, r)
	if !ok {
		return
	}
	if err := h.cfg.Manage.DeleteClient(r.Context(), c.ID); err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}

// authorized loads the client named in the path when the request carries its
// registration access token; any failure is the same 401, so a caller learns
// nothing about other clients.
func (h *Handler) authorized(w http.ResponseWriter, r *http.Request) (*storage.Client, bool) {
	token, ok := bearer(r)
	if !ok {
		unauthorized(w)
		return nil, false
	}
	c, err := h.cfg.Manage.GetClient(r.Context(), r.PathValue("id"))
	if errors.Is(err, storage.ErrNotFound) {
		unauthorized(w)
		return nil, false
	}
	if err != nil {
		h.internal(w, r, err)
		return nil, false
	}
	if len(c.RegistrationTokenDigest) == 0 || !h.cfg.Tokens.Verify(c.RegistrationTokenDigest, []byte(token)) {
		unauthorized(w)
		return nil, false
	}
	return c, true
}

// initialTokenValid compares the presented token with every initial token
// in constant time (over fixed-length hashes, so lengths do not leak).
func (h *Handler) initialTokenValid(r *http.Request) bool {
	token, ok := bearer(r)
	if !ok {
		return false
	}
	sum := sha256.Sum256([]byte(token))
	match := 0
	for _, t := range h.initial {
		match |= subtle.ConstantTimeCompare(sum[:], t[:])
	}
	return match == 1
}

func (h *Handler) newToken() (string, []byte, error) {
	b := make([]byte, tokenBytes)
	if _, err := rand.Read(b); err != nil {
		return "", nil, fmt.Errorf("generate registration access token: %w", err)
	}
	token := base64.RawURLEncoding.EncodeToString(b)
	return token, h.cfg.Tokens.Digest([]byte(token)), nil
}

func (h *Handler) out(c *storage.Client) response {
	return response{
		ClientID:                 c.ID,
		ClientIDIssuedAt:         c.CreatedAt.Unix(),
		RegistrationClientURI:    h.cfg.Issuer + Path + "/" + url.PathEscape(c.ID),
		ClientName:               c.Name,
		RedirectURIs:             nonNil(c.RedirectURIs),
		PostLogoutRedirectURIs:   c.PostLogoutRedirectURIs,
		GrantTypes:               nonNil(c.GrantTypes),
		ResponseTypes:            nonNil(c.ResponseTypes),
		Scope:                    strings.Join(c.Scopes, " "),
		TokenEndpointAuthMethod:  c.TokenEndpointAuthMethod,
		BackchannelLogoutURI:     c.BackchannelLogoutURI,
		IDTokenSignedResponseAlg: c.IDTokenSigningAlg,
	}
}

// spec turns the metadata into a registration, applying the rules for
// untrusted registrants; manage.CreateClient/UpdateClient do the rest.
func (m *metadata) spec() (manage.ClientSpec, error) {
	switch {
	case m.SkipConsent != nil:
		return manage.ClientSpec{}, invalidMetadata("skip_consent cannot be registered dynamically")
	case m.JWKS != nil || m.JWKSURI != nil:
		return manage.ClientSpec{}, invalidMetadata("jwks and jwks_uri are not supported; use client_secret_basic, client_secret_post or none")
	}
	for _, rt := range m.ResponseTypes {
		if rt != "code" {
			return manage.ClientSpec{}, invalidMetadata("response_types: only code is supported")
		}
	}
	method := cmpOr(m.TokenEndpointAuthMethod, storage.AuthMethodClientSecretBasic)
	switch method {
	case storage.AuthMethodNone, storage.AuthMethodClientSecretBasic, storage.AuthMethodClientSecretPost:
	default:
		return manage.ClientSpec{}, invalidMetadata("token_endpoint_auth_method must be none, client_secret_basic or client_secret_post")
	}
	scopes := strings.Fields(m.Scope)
	if slices.ContainsFunc(scopes, func(s string) bool { return strings.HasPrefix(s, "gatehouse:") }) {
		return manage.ClientSpec{}, invalidMetadata("gatehouse:* scopes cannot be registered dynamically")
	}
	if m.BackchannelLogoutURI != "" {
		if err := checkBackchannel(m.BackchannelLogoutURI); err != nil {
			return manage.ClientSpec{}, err
		}
	}
	return manage.ClientSpec{
		Name:                    cmpOr(strings.TrimSpace(m.ClientName), defaultName),
		RedirectURIs:            m.RedirectURIs,
		PostLogoutRedirectURIs:  m.PostLogoutRedirectURIs,
		GrantTypes:              m.GrantTypes,
		Scopes:                  scopes,
		Public:                  method == storage.AuthMethodNone,
		TokenEndpointAuthMethod: method,
		IDTokenSigningAlg:       m.IDTokenSignedResponseAlg,
		BackchannelLogoutURI:    m.BackchannelLogoutURI,
	}, nil
}

// checkBackchannel demands https and, for an IP literal, a public address:
// the server itself calls this URI.
func checkBackchannel(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return invalidMetadata("backchannel_logout_uri must be an https URL")
	}
	if ip, err := netip.ParseAddr(u.Hostname()); err == nil && !outbound.Public(ip.Unmap()) {
		return invalidMetadata("backchannel_logout_uri must not name a private or loopback address")
	}
	return nil
}

func cmpOr(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
