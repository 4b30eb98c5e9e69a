package oauth

import (
	"context"
	"net/http"
	"net/url"

	"github.com/gatehouse/gatehouse/storage"
)

// prefetch lets the store read, in one round trip, the client r
// authenticates as and the records of rows: fosite would read them one by
// one (see storage.Prefetch). The keys are those fosite passes to the store,
// derived by the same strategy.
func (p *Provider) prefetch(ctx context.Context, r *http.Request, rows []storage.PrefetchRow) context.Context {
	return p.store.Prefetch(ctx, storage.Prefetch{ClientID: requestClientID(r), Rows: rows})
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

// tokenRequestRows are the records a token request's grant reads: the code
// with its PKCE and OpenID rows, or the refresh token.
func (p *Provider) tokenRequestRows(ctx context.Context, form url.Values) []storage.PrefetchRow {
	switch form.Get("grant_type") {
	case "authorization_code":
		code := form.Get("code")
		if code == "" {
			return nil
		}
		signature := p.tokens.AuthorizeCodeSignature(ctx, code)
		return []storage.PrefetchRow{
			{Kind: storage.AuthorizeCodeRecord, Key: signature},
			{Kind: storage.PKCERecord, Key: signature},
			{Kind: storage.OpenIDSessionRecord, Key: code},
		}
	case "refresh_token":
		if token := form.Get("refresh_token"); token != "" {
			return []storage.PrefetchRow{{Kind: storage.RefreshTokenRecord, Key: p.tokens.RefreshTokenSignature(ctx, token)}}
		}
	}
	return nil
}

// introspectionRows is the record an introspection reads first.
func (p *Provider) introspectionRows(ctx context.Context, token, hint string) []storage.PrefetchRow {
	if hint == "refresh_token" {
		return []storage.PrefetchRow{{Kind: storage.RefreshTokenRecord, Key: p.tokens.RefreshTokenSignature(ctx, token)}}
	}
	return []storage.PrefetchRow{{Kind: storage.AccessTokenRecord, Key: p.tokens.AccessTokenSignature(ctx, token)}}
}
