package oauth

import (
	"context"
	"net/http"
	"net/url"

	"github.com/gatehouse/gatehouse/storage"
)

// prefetch lets the store read, in one round trip, the client r
// authenticates as and what reads names: fosite would read them one by one
// (see storage.Prefetch). The keys are those fosite passes to the store,
// derived by the same strategy.
func (p *Provider) prefetch(ctx context.Context, r *http.Request, reads storage.Prefetch) context.Context {
	reads.ClientID = requestClientID(r)
	return p.store.Prefetch(ctx, reads)
}

// requestClientID is the client r names for its authentication, HTTP Basic
// first, as fosite reads it; "" for a client assertion.
func requestClientID(r *http.Request) string {
	if id, _, ok := r.BasicAuth(); ok {
		id, err := url.QueryUnescape(id)
		if err != nil {
			return ""
		}
		return id
	}
	return r.PostForm.Get("client_id")
}

// tokenRequestReads are what a token request's grant reads: the code with
// its PKCE and OpenID rows, or the refresh token and its user (read by
// refreshPolicy).
func (p *Provider) tokenRequestReads(ctx context.Context, form url.Values) storage.Prefetch {
	switch form.Get("grant_type") {
	case "authorization_code":
		code := form.Get("code")
		if code == "" {
			return storage.Prefetch{}
		}
		signature := p.tokens.AuthorizeCodeSignature(ctx, code)
		return storage.Prefetch{Rows: []storage.PrefetchRow{
			{Kind: storage.AuthorizeCodeRecord, Key: signature},
			{Kind: storage.PKCERecord, Key: signature},
			{Kind: storage.OpenIDSessionRecord, Key: code},
		}}
	case "refresh_token":
		if token := form.Get("refresh_token"); token != "" {
			row := []storage.PrefetchRow{{Kind: storage.RefreshTokenRecord, Key: p.tokens.RefreshTokenSignature(ctx, token)}}
			return storage.Prefetch{Rows: row, SubjectsOf: row}
		}
	}
	return storage.Prefetch{}
}

// introspectionReads is the record an introspection reads first.
func (p *Provider) introspectionReads(ctx context.Context, token, hint string) storage.Prefetch {
	if hint == "refresh_token" {
		return storage.Prefetch{Rows: []storage.PrefetchRow{{Kind: storage.RefreshTokenRecord, Key: p.tokens.RefreshTokenSignature(ctx, token)}}}
	}
	return storage.Prefetch{Rows: []storage.PrefetchRow{{Kind: storage.AccessTokenRecord, Key: p.tokens.AccessTokenSignature(ctx, token)}}}
}

// userInfoReads are the access token UserInfo validates and its user.
func (p *Provider) userInfoReads(ctx context.Context, token string) storage.Prefetch {
	row := []storage.PrefetchRow{{Kind: storage.AccessTokenRecord, Key: p.tokens.AccessTokenSignature(ctx, token)}}
	return storage.Prefetch{Rows: row, SubjectsOf: row}
}

// prefetchAuthorization lets the store read, for a browser with a session
// cookie, the client, the session, its user and her consent to the client
// in one round trip: fosite reads the client, then dispatch the session,
// its user and the consent, one by one. Without a cookie there is only the
// client to read, and nothing to gain.
func (p *Provider) prefetchAuthorization(r *http.Request) *http.Request {
	key := p.cfg.Sessions.Key(r)
	if key == "" {
		return r
	}
	// The form is parsed (and its errors reported) by newAuthorizeRequest;
	// a client_id missed here only means that the client is read later.
	form := r.Form
	if form == nil {
		form = r.URL.Query()
	}
	return r.WithContext(p.store.Prefetch(r.Context(), storage.Prefetch{ClientID: form.Get("client_id"), BrowserSession: key}))
}
