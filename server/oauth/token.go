package oauth

import (
	"context"
	"net/http"
	"slices"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/fosite/token/jwt"
)

// userOnlyScopes make sense only with a user and are never granted to the
// client credentials grant.
var userOnlyScopes = []string{"openid", "profile", "email", "offline_access"}

func newSession() *openid.DefaultSession {
	return &openid.DefaultSession{Claims: &jwt.IDTokenClaims{}, Headers: &jwt.Headers{}}
}

// Token is the token endpoint.
func (p *Provider) Token(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	p.cors.allowRequestClient(w, r)
	sess := newSession()
	req, err := p.fosite.NewAccessRequest(ctx, r, sess)
	if err != nil {
		p.writeAccessError(w, r, req, err)
		return
	}
	if req.GetGrantTypes().ExactOne("client_credentials") {
		client := req.GetClient()
		for _, s := range req.GetRequestedScopes() {
			if !slices.Contains(userOnlyScopes, s) {
				req.GrantScope(s)
			}
		}
		for _, a := range req.GetRequestedAudience() {
			req.GrantAudience(a)
		}
		sess.Subject = client.GetID()
		sess.Claims.Subject = client.GetID()
	}
	resp, err := p.fosite.NewAccessResponse(ctx, req)
	if err != nil {
		p.writeAccessError(w, r, req, err)
		return
	}
	// RFC 6749 §5.1: the scope is always stated, even when unchanged.
	resp.SetScopes(req.GetGrantedScopes())
	p.cfg.Logger.InfoContext(ctx, "token issued", "client_id", req.GetClient().GetID(),
		"grant_type", req.GetGrantTypes(), "subject", sess.GetSubject())
	p.fosite.WriteAccessResponse(ctx, w, req, resp)
}

// refreshAbsoluteLimit refuses refresh tokens of a login older than the
// absolute limit: fosite slides the refresh expiry on every rotation, so the
// absolute bound is enforced here, from the original auth_time.
type refreshAbsoluteLimit struct {
	limit time.Duration
	now   func() time.Time
}

func (h *refreshAbsoluteLimit) HandleTokenEndpointRequest(_ context.Context, req fosite.AccessRequester) error {
	sess, ok := req.GetSession().(openid.Session)
	if !ok || sess.IDTokenClaims() == nil {
		return nil
	}
	authTime := sess.IDTokenClaims().AuthTime
	if !authTime.IsZero() && h.now().After(authTime.Add(h.limit)) {
		return fosite.ErrInvalidGrant.WithHint("The refresh token has reached its maximum lifetime; the user must sign in again.")
	}
	return nil
}

func (h *refreshAbsoluteLimit) PopulateTokenEndpointResponse(context.Context, fosite.AccessRequester, fosite.AccessResponder) error {
	return nil
}

func (h *refreshAbsoluteLimit) CanSkipClientAuth(context.Context, fosite.AccessRequester) bool {
	return false
}

func (h *refreshAbsoluteLimit) CanHandleTokenEndpointRequest(_ context.Context, req fosite.AccessRequester) bool {
	return req.GetGrantTypes().ExactOne("refresh_token")
}
