package oauth

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/ory/fosite"

	"github.com/gatehouse/gatehouse/server/policy"
)

// IntrospectScope lets a client introspect tokens of other clients.
const IntrospectScope = "gatehouse:introspect"

// Introspect is the RFC 7662 endpoint. Only confidential clients may call it;
// a client sees its own tokens, and another client's token reads as inactive
// unless the caller may receive gatehouse:introspect. (fosite's own
// NewIntrospectionRequest accepts any access token as permission to
// introspect any token, so it is not used.)
func (p *Provider) Introspect(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if r.Method != http.MethodPost {
		writeJSONError(w, http.StatusMethodNotAllowed, fosite.ErrInvalidRequest.WithHint("Use POST."))
		return
	}
	if err := r.ParseForm(); err != nil {
		writeJSONError(w, http.StatusBadRequest, fosite.ErrInvalidRequest.WithHint("The request body could not be read."))
		return
	}
	if p.clientAuthLocked(w, r) {
		return
	}
	if token := r.PostForm.Get("token"); token != "" {
		ctx = p.prefetch(ctx, r, p.introspectionReads(ctx, token, r.PostForm.Get("token_type_hint")))
	}
	caller, err := p.fosite.AuthenticateClient(ctx, r, r.PostForm)
	if err == nil && caller.IsPublic() {
		err = fosite.ErrInvalidClient.WithHint("Public clients may not introspect tokens.")
	}
	if err != nil {
		rfc := rfcError(err)
		p.logError(r, "introspection refused", rfc)
		p.countClientAuthFailure(r, rfc)
		status := http.StatusUnauthorized
		if rfc.ErrorField == fosite.ErrTemporarilyUnavailable.ErrorField {
			status = http.StatusServiceUnavailable
		}
		writeJSONError(w, status, rfc)
		return
	}
	token := r.PostForm.Get("token")
	if token == "" {
		writeJSONError(w, http.StatusBadRequest, fosite.ErrInvalidRequest.WithHint("The 'token' parameter is missing."))
		return
	}
	use := fosite.AccessToken
	if r.PostForm.Get("token_type_hint") == "refresh_token" {
		use = fosite.RefreshToken
	}
	sess := newSession()
	use, req, err := p.fosite.IntrospectToken(ctx, token, use, sess)
	if err != nil {
		if unavailable(err) {
			writeJSONError(w, http.StatusServiceUnavailable, rfcError(err))
			return
		}
		writeIntrospection(w, inactiveToken)
		return
	}
	if req.GetClient().GetID() != caller.GetID() {
		allowed, err := p.mayIntrospectOthers(r, caller)
		if err != nil {
			p.writeStorageError(w, r, "introspection: load client roles", err)
			return
		}
		if !allowed {
			writeIntrospection(w, inactiveToken)
			return
		}
	}
	resp := activeToken{
		Active:    true,
		Scope:     strings.Join(req.GetGrantedScopes(), " "),
		ClientID:  req.GetClient().GetID(),
		Issuer:    p.cfg.Issuer,
		IssuedAt:  req.GetRequestedAt().Unix(),
		Subject:   sess.GetSubject(),
		Username:  sess.GetUsername(),
		Roles:     sessionRoles(sess),
		Audience:  req.GetGrantedAudience(),
		TokenType: "Bearer",
	}
	if use == fosite.RefreshToken {
		resp.TokenType = "refresh_token"
	}
	if exp := sess.GetExpiresAt(use); !exp.IsZero() {
		resp.ExpiresAt = exp.Unix()
	}
	writeIntrospection(w, resp)
}

// activeToken is the answer for an active token; struct fields encode
// without the sorting and reflection of a map.
type activeToken struct {
	Active    bool     `json:"active"`
	Scope     string   `json:"scope"`
	ClientID  string   `json:"client_id"`
	Issuer    string   `json:"iss"`
	IssuedAt  int64    `json:"iat"`
	Subject   string   `json:"sub,omitempty"`
	Username  string   `json:"username,omitempty"`
	Roles     any      `json:"roles,omitempty"`
	Audience  []string `json:"aud,omitempty"`
	ExpiresAt int64    `json:"exp,omitempty"`
	TokenType string   `json:"token_type"`
}

// inactiveToken is the whole answer for a token that is not active (or not
// the caller's to see): RFC 7662 section 2.2.
var inactiveToken = struct {
	Active bool `json:"active"`
}{}

// mayIntrospectOthers reports whether caller may receive gatehouse:introspect:
// it registered the scope and one of its roles carries it.
func (p *Provider) mayIntrospectOthers(r *http.Request, caller fosite.Client) (bool, error) {
	if !caller.GetScopes().Has(IntrospectScope) {
		return false, nil
	}
	roles, err := rolesOf(caller)
	if err != nil {
		return false, err
	}
	granted, _ := policy.ClientScopes([]string{IntrospectScope}, roles)
	return len(granted) == 1, nil
}

func writeIntrospection(w http.ResponseWriter, body any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(body)
}
