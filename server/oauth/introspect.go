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
		ctx = p.prefetch(ctx, r, p.introspectionRows(ctx, token, r.PostForm.Get("token_type_hint")))
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
		writeIntrospection(w, map[string]any{"active": false})
		return
	}
	if req.GetClient().GetID() != caller.GetID() {
		allowed, err := p.mayIntrospectOthers(r, caller)
		if err != nil {
			p.writeStorageError(w, r, "introspection: load client roles", err)
			return
		}
		if !allowed {
			writeIntrospection(w, map[string]any{"active": false})
			return
		}
	}
	resp := map[string]any{
		"active":    true,
		"scope":     strings.Join(req.GetGrantedScopes(), " "),
		"client_id": req.GetClient().GetID(),
		"iss":       p.cfg.Issuer,
		"iat":       req.GetRequestedAt().Unix(),
	}
	if sub := sess.GetSubject(); sub != "" {
		resp["sub"] = sub
	}
	if name := sess.GetUsername(); name != "" {
		resp["username"] = name
	}
	if roles := sessionRoles(sess); roles != nil {
		resp["roles"] = roles
	}
	if aud := req.GetGrantedAudience(); len(aud) > 0 {
		resp["aud"] = aud
	}
	if exp := sess.GetExpiresAt(use); !exp.IsZero() {
		resp["exp"] = exp.Unix()
	}
	if use == fosite.AccessToken {
		resp["token_type"] = "Bearer"
	} else {
		resp["token_type"] = "refresh_token"
	}
	writeIntrospection(w, resp)
}

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

func writeIntrospection(w http.ResponseWriter, body map[string]any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(body)
}
