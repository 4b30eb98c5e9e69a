package oauth

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/fosite/token/jwt"

	"github.com/gatehouse/gatehouse/server/policy"
	"github.com/gatehouse/gatehouse/storage"
)

func newSession() *openid.DefaultSession {
	return &openid.DefaultSession{Claims: &jwt.IDTokenClaims{}, Headers: &jwt.Headers{}}
}

// Token is the token endpoint.
func (p *Provider) Token(w http.ResponseWriter, r *http.Request) {
	// fosite reads an authorization code in both phases of its exchange;
	// the memo saves the second query (see storage.CodeMemo).
	ctx := storage.WithCodeMemo(r.Context())
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	p.cors.allowRequestClient(w, r)
	if p.clientAuthLocked(w, r) {
		return
	}
	if r.Method == http.MethodPost {
		if err := r.ParseForm(); err != nil {
			writeJSONError(w, http.StatusBadRequest, fosite.ErrInvalidRequest.WithHint("The request body could not be read."))
			return
		}
		ctx = p.prefetch(ctx, r, p.tokenRequestReads(ctx, r.PostForm))
	}
	sess := newSession()
	req, err := p.fosite.NewAccessRequest(ctx, r, sess)
	if err != nil {
		// fosite answers a rotated refresh token presented again with
		// ErrInactiveToken, after revoking the whole token family.
		if errors.Is(err, fosite.ErrInactiveToken) && r.PostForm.Get("grant_type") == "refresh_token" {
			p.cfg.Metrics.RefreshReuse()
		}
		p.writeAccessError(w, r, req, err)
		return
	}
	if req.GetGrantTypes().ExactOne("client_credentials") {
		if err := p.grantClientCredentials(req, sess); err != nil {
			p.writeAccessError(w, r, req, err)
			return
		}
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
	p.cfg.Metrics.TokenIssued(req.GetGrantTypes())
	p.fosite.WriteAccessResponse(ctx, w, req, resp)
}

// grantClientCredentials grants a client the requested scopes its own roles
// carry (never user-only scopes) and the requested audiences.
func (p *Provider) grantClientCredentials(req fosite.AccessRequester, sess *openid.DefaultSession) error {
	client := req.GetClient()
	roles, err := rolesOf(client)
	if err != nil {
		return err
	}
	granted, _ := policy.ClientScopes(req.GetRequestedScopes(), roles)
	for _, s := range granted {
		req.GrantScope(s)
	}
	for _, a := range req.GetRequestedAudience() {
		req.GrantAudience(a)
	}
	sess.Subject = client.GetID()
	sess.Claims.Subject = client.GetID()
	sess.Claims.Extra = map[string]interface{}{"roles": policy.RoleNames(roles, granted)}
	return nil
}

// rolesOf returns the roles the store read together with the client.
func rolesOf(c fosite.Client) ([]*storage.Role, error) {
	sc, ok := c.(*storage.Client)
	if !ok {
		return nil, fosite.ErrServerError.WithDebug("unexpected client type")
	}
	return sc.Roles, nil
}

// refreshPolicy re-evaluates a refresh grant against the current state of
// the user before tokens are minted. fosite runs every handler's Handle
// before any Populate, so registered after fosite's refresh handler it sees
// the original grant and can still change it:
//   - the absolute lifetime: fosite slides the refresh expiry on every
//     rotation, so the bound from the original login is enforced here;
//   - a deleted or disabled user fails with invalid_grant;
//   - the granted scopes narrow to what the user's current roles allow, and
//     the roles and profile claims are rewritten.
type refreshPolicy struct {
	store storage.Store
	limit time.Duration
	now   func() time.Time
}

func (h *refreshPolicy) HandleTokenEndpointRequest(ctx context.Context, req fosite.AccessRequester) error {
	sess, ok := req.GetSession().(*openid.DefaultSession)
	if !ok || sess.Claims == nil {
		return fosite.ErrServerError.WithDebug("refresh: unexpected session type")
	}
	if at := sess.Claims.AuthTime; !at.IsZero() && h.now().After(at.Add(h.limit)) {
		return fosite.ErrInvalidGrant.WithHint("The refresh token has reached its maximum lifetime; the user must sign in again.")
	}
	user, err := h.store.FindUser(ctx, sess.GetSubject())
	if errors.Is(err, storage.ErrNotFound) || err == nil && user.Disabled {
		return fosite.ErrInvalidGrant.WithHint("The user account no longer exists or is disabled.")
	}
	if err != nil {
		return err
	}
	granted, _ := policy.UserScopes(req.GetGrantedScopes(), user.Roles)
	ar, ok := req.(*fosite.AccessRequest)
	if !ok {
		return fosite.ErrServerError.WithDebug("refresh: unexpected request type")
	}
	ar.GrantedScope = granted
	extra := userClaims(user, ar.GrantedScope)
	extra["sid"] = sess.Claims.Extra["sid"]
	extra["roles"] = policy.RoleNames(user.Roles, granted)
	sess.Claims.Extra = extra
	return nil
}

func (h *refreshPolicy) PopulateTokenEndpointResponse(context.Context, fosite.AccessRequester, fosite.AccessResponder) error {
	return nil
}

func (h *refreshPolicy) CanSkipClientAuth(context.Context, fosite.AccessRequester) bool {
	return false
}

func (h *refreshPolicy) CanHandleTokenEndpointRequest(_ context.Context, req fosite.AccessRequester) bool {
	return req.GetGrantTypes().ExactOne("refresh_token")
}
