package oauth

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/fosite/token/jwt"

	"github.com/gatehouse/gatehouse/server/policy"
	"github.com/gatehouse/gatehouse/storage"
)

// minParamLength is the shortest state or nonce accepted (when present).
const minParamLength = 8

// maxFormBytes bounds request bodies of the protocol endpoints.
const maxFormBytes = 64 << 10

// crossOrigin reports whether a browser sent r from another site.
var crossOrigin = http.NewCrossOriginProtection()

// Authorize is the authorization endpoint (GET and POST).
func (p *Provider) Authorize(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		if err := r.ParseForm(); err != nil {
			p.cfg.Pages.Error(w, r, http.StatusBadRequest, "Bad request", "The authorization request could not be read.")
			return
		}
		// A cross-site POST would arrive without the Lax session cookie:
		// replay it as a top-level GET, which carries it.
		if crossOrigin.Check(r) != nil {
			http.Redirect(w, r, r.URL.Path+"?"+r.PostForm.Encode(), http.StatusSeeOther)
			return
		}
	}
	r = p.prefetchAuthorization(r)
	ar, err := p.newAuthorizeRequest(r)
	if err == nil {
		err = checkParameterLengths(ar)
	}
	if err != nil {
		p.authorizeError(w, r, ar, err)
		return
	}
	p.dispatch(w, r, ar, nil)
}

// Resume continues a pending authorization after a login or consent page.
func (p *Provider) Resume(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	pending, err := p.cfg.Sessions.LoadAuthRequest(ctx, r, r.URL.Query().Get("ar"))
	if err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			p.cfg.Pages.Error(w, r, http.StatusBadRequest, "This sign-in link has expired",
				"Your sign-in request is no longer valid. Go back to the app and start again.")
			return
		}
		p.pageStorageError(w, r, err)
		return
	}
	// Rebuild the original request; fosite validates it again (the client
	// may have changed in the meantime).
	orig := r.Clone(ctx)
	orig.Method = http.MethodGet
	orig.URL.RawQuery = pending.Query
	orig.Form, orig.PostForm, orig.Body = nil, nil, http.NoBody
	ar, err := p.newAuthorizeRequest(orig)
	if err != nil {
		p.authorizeError(w, r, ar, err)
		return
	}
	// The request was made when the pending record was created; auth_time
	// checks (prompt=login, max_age) compare against that moment.
	if req, ok := ar.(*fosite.AuthorizeRequest); ok {
		req.RequestedAt = pending.CreatedAt.UTC().Truncate(time.Second)
	}
	if r.URL.Query().Get("consent") == "denied" && pending.UserID != "" {
		p.finishPending(r, pending)
		p.authorizeError(w, r, ar, fosite.ErrAccessDenied.WithHint("The user denied the request."))
		return
	}
	p.dispatch(w, r, ar, pending)
}

// stateless stands in for a missing state while fosite parses the request.
const stateless = "gatehouse:no-state"

// newAuthorizeRequest parses and validates an authorization request.
// fosite v0.49 refuses a missing state whatever MinParameterEntropy says,
// but state is optional (PKCE-only clients send none): a placeholder is
// passed to fosite and removed again from the parsed request.
func (p *Provider) newAuthorizeRequest(r *http.Request) (fosite.AuthorizeRequester, error) {
	if err := r.ParseForm(); err != nil {
		return nil, fosite.ErrInvalidRequest.WithHint("The request could not be parsed.")
	}
	noState := r.Form.Get("state") == ""
	if noState {
		r.Form.Set("state", stateless)
	}
	ar, err := p.fosite.NewAuthorizeRequest(r.Context(), r)
	if req, ok := ar.(*fosite.AuthorizeRequest); ok && noState {
		req.State = ""
		req.Form.Del("state")
	}
	return ar, err
}

func checkParameterLengths(ar fosite.AuthorizeRequester) error {
	form := ar.GetRequestForm()
	if s := form.Get("state"); s != "" && len(s) < minParamLength {
		return fosite.ErrInvalidState.WithHintf("The 'state' parameter must be at least %d characters long.", minParamLength)
	}
	if n := form.Get("nonce"); n != "" && len(n) < minParamLength {
		return fosite.ErrInvalidRequest.WithHintf("The 'nonce' parameter must be at least %d characters long.", minParamLength)
	}
	return nil
}

// dispatch decides the next step of an authorization: sign in, consent, or
// issue the code. pending is the persisted request when resuming.
func (p *Provider) dispatch(w http.ResponseWriter, r *http.Request, ar fosite.AuthorizeRequester, pending *storage.AuthRequest) {
	ctx := r.Context()
	client := ar.GetClient().(*storage.Client)
	form := ar.GetRequestForm()
	prompts := strings.Fields(form.Get("prompt"))

	bs, err := p.cfg.Sessions.Current(ctx, r)
	if err != nil {
		p.authorizeError(w, r, ar, err)
		return
	}
	var user *storage.User
	if bs != nil {
		if user, err = p.activeUser(r, bs.UserID); err != nil {
			p.authorizeError(w, r, ar, err)
			return
		}
	}

	var auth authentication
	switch {
	case pending != nil && pending.UserID != "":
		// The person signed in for this very request.
		if user == nil || bs.UserID != pending.UserID {
			if p.awaitingSecondFactor(w, r, ar, pending) {
				return
			}
			p.cfg.Pages.Error(w, r, http.StatusBadRequest, "This sign-in link has expired",
				"You were signed out while signing in. Go back to the app and start again.")
			return
		}
		auth = authentication{user: user, authTime: pending.AuthTime, amr: pending.AMR, sid: bs.SID}
	case user != nil && !p.mustReauthenticate(r, ar, prompts, bs):
		auth = authentication{user: user, authTime: bs.AuthTime, amr: bs.AMR, sid: bs.SID}
	default:
		if slices.Contains(prompts, "none") {
			p.authorizeError(w, r, ar, fosite.ErrLoginRequired.WithHint("The user is not signed in."))
			return
		}
		p.sendTo(w, r, ar, pending, p.cfg.LoginPath, nil)
		return
	}

	if err := p.grantableScopes(&auth, ar.GetRequestedScopes()); err != nil {
		if pending != nil {
			p.finishPending(r, pending)
		}
		p.authorizeError(w, r, ar, err)
		return
	}
	if p.secondFactorDue(w, r, ar, pending, &auth, prompts) {
		return
	}

	consented := pending != nil && pending.ConsentGiven
	if !consented {
		needed, err := p.consentNeeded(r, client, auth.user.ID, auth.scopes, prompts)
		if err != nil {
			p.authorizeError(w, r, ar, err)
			return
		}
		if needed {
			if slices.Contains(prompts, "none") {
				p.authorizeError(w, r, ar, fosite.ErrConsentRequired.WithHint("The user has not consented to this client."))
				return
			}
			p.sendTo(w, r, ar, pending, p.cfg.ConsentPath, &auth)
			return
		}
	}
	p.issueCode(w, r, ar, pending, auth)
}

// authentication is who is authorizing, how they proved it, and what they
// may be granted.
type authentication struct {
	user     *storage.User
	authTime time.Time
	amr      []string
	sid      string
	// scopes are the requested scopes the user's roles allow.
	scopes []string
}

// grantableScopes decides which requested scopes the user's roles allow.
// When none is left the authorization ends in access_denied.
func (p *Provider) grantableScopes(auth *authentication, requested []string) error {
	granted, withheld := policy.UserScopes(requested, auth.user.Roles)
	if len(granted) == 0 {
		return fosite.ErrAccessDenied.WithHintf("The user may not be granted any of the requested scopes (%s).", strings.Join(withheld, " "))
	}
	auth.scopes = granted
	return nil
}

// activeUser loads a session's user; nil when deleted or disabled.
func (p *Provider) activeUser(r *http.Request, id string) (*storage.User, error) {
	u, err := p.store.FindUser(r.Context(), id)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if u.Disabled {
		return nil, nil
	}
	return u, nil
}

// mustReauthenticate applies prompt=login, max_age and id_token_hint to an
// existing browser session.
func (p *Provider) mustReauthenticate(r *http.Request, ar fosite.AuthorizeRequester, prompts []string, bs *storage.BrowserSession) bool {
	if slices.Contains(prompts, "login") {
		return true
	}
	form := ar.GetRequestForm()
	if v := form.Get("max_age"); v != "" {
		maxAge, err := strconv.ParseInt(v, 10, 64)
		if err == nil && maxAge >= 0 && p.cfg.Now().Sub(bs.AuthTime) > time.Duration(maxAge)*time.Second {
			return true
		}
	}
	if hint := form.Get("id_token_hint"); hint != "" {
		t, err := p.signer.Decode(r.Context(), hint)
		var ve *jwt.ValidationError
		if t == nil || err != nil && !(errors.As(err, &ve) && ve.Has(jwt.ValidationErrorExpired)) {
			return true
		}
		if sub, _ := t.Claims["sub"].(string); sub != bs.UserID {
			return true
		}
	}
	return false
}

// consentNeeded reports whether the user must be asked: always for
// prompt=consent, never for first-party (skip-consent) clients otherwise, and
// when no remembered consent covers the requested scopes.
func (p *Provider) consentNeeded(r *http.Request, client *storage.Client, userID string, scopes []string, prompts []string) (bool, error) {
	if slices.Contains(prompts, "consent") {
		return true, nil
	}
	if client.SkipConsent {
		return false, nil
	}
	c, err := p.store.FindConsent(r.Context(), userID, client.ID)
	if errors.Is(err, storage.ErrNotFound) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	if !p.cfg.Now().Before(c.ExpiresAt) {
		return true, nil
	}
	for _, s := range scopes {
		if !slices.Contains(c.Scopes, s) {
			return true, nil
		}
	}
	return false, nil
}

// sendTo persists the request (when not yet pending) and redirects the
// browser to a page.
func (p *Provider) sendTo(w http.ResponseWriter, r *http.Request, ar fosite.AuthorizeRequester, pending *storage.AuthRequest, path string, auth *authentication) {
	ctx := r.Context()
	if pending == nil {
		pending = &storage.AuthRequest{
			ClientID: ar.GetClient().GetID(),
			Query:    ar.GetRequestForm().Encode(),
		}
		if auth != nil {
			pending.UserID = auth.user.ID
			pending.AuthTime = auth.authTime
			pending.AMR = auth.amr
		}
		if err := p.cfg.Sessions.BeginAuthRequest(ctx, w, r, pending); err != nil {
			p.authorizeError(w, r, ar, err)
			return
		}
	}
	http.Redirect(w, r, path+"?"+url.Values{"ar": {pending.ID}}.Encode(), http.StatusSeeOther)
}

// issueCode grants the requested scopes and audiences and redirects back to
// the client with the code and `iss` (RFC 9207).
func (p *Provider) issueCode(w http.ResponseWriter, r *http.Request, ar fosite.AuthorizeRequester, pending *storage.AuthRequest, auth authentication) {
	ctx := r.Context()
	for _, s := range auth.scopes {
		ar.GrantScope(s)
	}
	for _, a := range ar.GetRequestedAudience() {
		ar.GrantAudience(a)
	}
	sess := p.userSession(ar, auth)
	// The code's three rows and the session's client share one commit.
	var resp fosite.AuthorizeResponder
	err := storage.InTx(ctx, p.store, func(ctx context.Context) error {
		var err error
		if resp, err = p.fosite.NewAuthorizeResponse(ctx, ar, sess); err != nil {
			return err
		}
		// Remembered so that ending the session can notify this client.
		return p.store.RecordSessionClient(ctx, auth.sid, auth.user.ID, ar.GetClient().GetID(), p.cfg.Now().Add(p.cfg.SessionLifetime))
	})
	if err != nil {
		p.authorizeError(w, r, ar, err)
		return
	}
	resp.AddParameter("iss", p.cfg.Issuer)
	if ar.GetState() == "" {
		resp.GetParameters().Del("state")
	}
	if pending != nil {
		p.finishPending(r, pending)
	}
	p.cfg.Logger.InfoContext(ctx, "authorization granted", "client_id", ar.GetClient().GetID(), "user_id", auth.user.ID)
	p.fosite.WriteAuthorizeResponse(ctx, w, ar, resp)
}

// finishPending deletes a pending request; failure only delays its expiry.
func (p *Provider) finishPending(r *http.Request, pending *storage.AuthRequest) {
	if err := p.store.DeleteAuthRequest(r.Context(), pending.ID); err != nil && !errors.Is(err, storage.ErrNotFound) {
		p.cfg.Logger.WarnContext(r.Context(), "delete auth request", "err", err)
	}
}

// userSession builds the fosite session of an authorization: the ID token
// claims that fosite signs at the token endpoint.
func (p *Provider) userSession(ar fosite.AuthorizeRequester, auth authentication) *openid.DefaultSession {
	client := ar.GetClient().(*storage.Client)
	extra := userClaims(auth.user, ar.GetGrantedScopes())
	extra["sid"] = auth.sid
	extra["roles"] = policy.RoleNames(auth.user.Roles, ar.GetGrantedScopes())
	alg := client.IDTokenSigningAlg
	if alg == "" {
		alg = "RS256"
	}
	return &openid.DefaultSession{
		Claims: &jwt.IDTokenClaims{
			Subject:                             auth.user.ID,
			AuthTime:                            auth.authTime.UTC().Truncate(time.Second),
			RequestedAt:                         ar.GetRequestedAt().UTC().Truncate(time.Second),
			AuthenticationMethodsReferences:     auth.amr,
			AuthenticationContextClassReference: policy.ACR(auth.amr),
			Extra:                               extra,
		},
		Headers:  &jwt.Headers{Extra: map[string]interface{}{"alg": alg}},
		Subject:  auth.user.ID,
		Username: auth.user.Username,
	}
}

// userClaims are the claims of the granted scopes (OpenID Connect Core 5.4).
func userClaims(u *storage.User, scopes fosite.Arguments) map[string]interface{} {
	claims := map[string]interface{}{}
	if scopes.Has("profile") {
		claims["preferred_username"] = u.Username
		if u.DisplayName != "" {
			claims["name"] = u.DisplayName
		}
		claims["updated_at"] = u.UpdatedAt.Unix()
	}
	if scopes.Has("email") && u.Email != "" {
		claims["email"] = u.Email
		claims["email_verified"] = u.EmailVerified
	}
	return claims
}
