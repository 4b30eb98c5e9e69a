package oauth

import (
	"errors"
	"net/http"
	"net/url"
	"slices"

	"github.com/ory/fosite/token/jwt"

	"github.com/gatehouse/gatehouse/storage"
)

// endSessionParams are the parameters of an RP-initiated logout request
// (OpenID Connect RP-Initiated Logout 1.0 §2).
type endSessionParams struct {
	hint, clientID, postLogoutRedirect, state string
}

func (e endSessionParams) values() map[string]string {
	m := map[string]string{}
	for k, v := range map[string]string{"client_id": e.clientID, "post_logout_redirect_uri": e.postLogoutRedirect, "state": e.state} {
		if v != "" {
			m[k] = v
		}
	}
	return m
}

// idTokenHint is what a validly signed id_token_hint (expired or not) says.
type idTokenHint struct {
	subject string
	aud     []string
}

// decodeHint verifies an id_token_hint issued by us; an expired token is
// accepted (the person's session is often older than the ID token).
func (p *Provider) decodeHint(r *http.Request, raw string) (*idTokenHint, bool) {
	t, err := p.signer.Decode(r.Context(), raw)
	var ve *jwt.ValidationError
	if t == nil || err != nil && !(errors.As(err, &ve) && ve.Errors == jwt.ValidationErrorExpired) {
		return nil, false
	}
	if iss, _ := t.Claims["iss"].(string); iss != p.cfg.Issuer {
		return nil, false
	}
	h := &idTokenHint{}
	h.subject, _ = t.Claims["sub"].(string)
	switch aud := t.Claims["aud"].(type) {
	case string:
		h.aud = []string{aud}
	case []interface{}:
		for _, a := range aud {
			if s, ok := a.(string); ok {
				h.aud = append(h.aud, s)
			}
		}
	}
	return h, h.subject != ""
}

// EndSession is the end_session_endpoint (GET and POST). It ends the browser
// session — after a confirmation unless a valid id_token_hint names the
// signed-in user — notifies the session's clients by back-channel logout,
// and redirects only to a post_logout_redirect_uri registered for the
// client named by the hint's aud or client_id (they must agree).
func (p *Provider) EndSession(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		p.cfg.Pages.Error(w, r, http.StatusBadRequest, "Bad request", "The sign-out request could not be read.")
		return
	}
	confirmed := false
	if r.Method == http.MethodPost {
		// An RP's cross-site form POST arrives without the Lax session
		// cookie: replay it as a GET. A same-origin POST is our confirmation.
		if crossOrigin.Check(r) != nil {
			http.Redirect(w, r, r.URL.Path+"?"+r.PostForm.Encode(), http.StatusSeeOther)
			return
		}
		confirmed = true
	}
	params := endSessionParams{
		hint:               r.Form.Get("id_token_hint"),
		clientID:           r.Form.Get("client_id"),
		postLogoutRedirect: r.Form.Get("post_logout_redirect_uri"),
		state:              r.Form.Get("state"),
	}

	var hint *idTokenHint
	if params.hint != "" {
		h, ok := p.decodeHint(r, params.hint)
		if ok {
			hint = h
			if params.clientID == "" && len(h.aud) == 1 {
				params.clientID = h.aud[0]
			}
			if params.clientID != "" && !slices.Contains(h.aud, params.clientID) {
				p.cfg.Pages.Error(w, r, http.StatusBadRequest, "This sign-out request cannot be completed",
					"The application named itself differently from the token it sent.")
				return
			}
		}
	}
	redirect, err := p.postLogoutRedirect(r, params)
	if err != nil {
		p.pageStorageError(w, r, err)
		return
	}

	bs, err := p.cfg.Sessions.Current(ctx, r)
	if err != nil {
		p.pageStorageError(w, r, err)
		return
	}
	if bs != nil && !confirmed && (hint == nil || hint.subject != bs.UserID) {
		username := ""
		if u, err := p.store.FindUser(ctx, bs.UserID); err == nil {
			username = u.Username
		}
		p.cfg.Pages.LogoutConfirm(w, r, username, params.values())
		return
	}
	if bs != nil {
		if err := p.cfg.Sessions.SignOut(ctx, w, r); err != nil {
			p.pageStorageError(w, r, err)
			return
		}
		if err := p.cfg.Logout.EndSession(ctx, bs.UserID, bs.SID); err != nil {
			p.cfg.Logger.WarnContext(ctx, "back-channel logout", "err", err)
		}
		p.cfg.Logger.InfoContext(ctx, "signed out", "user_id", bs.UserID, "client_id", params.clientID)
	}
	if redirect == nil {
		p.cfg.Pages.SignedOut(w, r)
		return
	}
	if params.state != "" {
		q := redirect.Query()
		q.Set("state", params.state)
		redirect.RawQuery = q.Encode()
	}
	http.Redirect(w, r, redirect.String(), http.StatusSeeOther)
}

// postLogoutRedirect returns the redirect target when it is registered,
// exactly, for the named client; nil otherwise.
func (p *Provider) postLogoutRedirect(r *http.Request, params endSessionParams) (*url.URL, error) {
	if params.postLogoutRedirect == "" || params.clientID == "" {
		return nil, nil
	}
	client, err := p.store.FindClient(r.Context(), params.clientID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if !slices.Contains(client.PostLogoutRedirectURIs, params.postLogoutRedirect) {
		return nil, nil
	}
	return url.Parse(params.postLogoutRedirect)
}
