package oauth

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/ory/fosite"

	"github.com/gatehouse/gatehouse/server/policy"
	"github.com/gatehouse/gatehouse/storage"
)

// bearerToken takes the access token from the Authorization header or, for
// POST, the form body (RFC 6750 §2.1–2.2); never from the query string.
func bearerToken(r *http.Request) string {
	if scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "bearer") {
		return strings.TrimSpace(token)
	}
	if r.Method == http.MethodPost {
		if err := r.ParseForm(); err == nil {
			return r.PostForm.Get("access_token")
		}
	}
	return ""
}

// UserInfo is the OpenID Connect UserInfo endpoint (GET and POST). Claims
// come from the current user record, filtered by the granted scopes.
func (p *Provider) UserInfo(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	w.Header().Add("Vary", "Origin")
	token := bearerToken(r)
	if token == "" {
		bearerError(w, http.StatusUnauthorized, "", "")
		return
	}
	ctx = p.store.Prefetch(ctx, p.userInfoReads(ctx, token))
	sess := newSession()
	_, req, err := p.fosite.IntrospectToken(ctx, token, fosite.AccessToken, sess)
	if err != nil {
		if unavailable(err) {
			writeJSONError(w, http.StatusServiceUnavailable, rfcError(err))
			return
		}
		bearerError(w, http.StatusUnauthorized, "invalid_token", "The access token is invalid or expired.")
		return
	}
	p.cors.allowClient(w, r, req.GetClient())
	if !req.GetGrantedScopes().Has("openid") {
		bearerError(w, http.StatusForbidden, "insufficient_scope", "The access token was not granted the openid scope.")
		return
	}
	user, err := p.store.FindUser(ctx, sess.GetSubject())
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		p.writeStorageError(w, r, "userinfo: load user", err)
		return
	}
	if user == nil || user.Disabled {
		bearerError(w, http.StatusUnauthorized, "invalid_token", "The access token is invalid or expired.")
		return
	}
	claims := userClaims(user, req.GetGrantedScopes())
	claims["sub"] = user.ID
	claims["roles"] = policy.RoleNames(user.Roles, req.GetGrantedScopes())
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(claims)
}

// bearerError answers per RFC 6750 §3.
func bearerError(w http.ResponseWriter, status int, code, description string) {
	v := `Bearer realm="gatehouse"`
	if code != "" {
		v += `, error="` + code + `", error_description="` + description + `"`
	}
	w.Header().Set("WWW-Authenticate", v)
	w.Header().Set("Cache-Control", "no-store")
	if code == "" {
		w.WriteHeader(status)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": description})
}
