package storagetest

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/openid"

	"github.com/gatehouse/gatehouse/storage"
)

// Reads after a Prefetch answer what reads without one answer, for rows
// that exist and rows that do not; a prefetched row is answered once (a
// second read sees the database); inside a transaction reads see the
// transaction's own writes.
func testPrefetch(t *testing.T, s storage.Store) {
	ctx := ctxT(t)
	client := seedClient(t, s, "app")
	role := &storage.Role{Name: "reader", Scopes: []string{"read"}}
	must(t, "role", s.CreateRole(ctx, role))
	must(t, "grant role", s.GrantClientRole(ctx, "app", "reader"))
	seedUser(t, s, "u-1", "ursula")
	must(t, "grant user role", s.GrantUserRole(ctx, "u-1", "reader"))
	now := time.Now().UTC().Truncate(time.Second)
	must(t, "browser session", s.CreateBrowserSession(ctx, &storage.BrowserSession{ID: "bs-1", SID: "sid-1", UserID: "u-1", AuthTime: now, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour), AMR: []string{"pwd"}}))
	must(t, "expired browser session", s.CreateBrowserSession(ctx, &storage.BrowserSession{ID: "bs-old", SID: "sid-old", UserID: "u-1", AuthTime: now, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(-time.Second)}))
	must(t, "consent", s.SaveConsent(ctx, &storage.Consent{UserID: "u-1", ClientID: "app", Scopes: []string{"openid", "read"}, GrantedAt: now, ExpiresAt: now.Add(time.Hour)}))
	seedClient(t, s, "other")
	must(t, "expired consent", s.SaveConsent(ctx, &storage.Consent{UserID: "u-1", ClientID: "other", Scopes: []string{"openid"}, GrantedAt: now, ExpiresAt: now.Add(-time.Second)}))
	r := newRequest(client, "req-1", "u-1")
	must(t, "access", s.CreateAccessTokenSession(ctx, "at-1", r))
	must(t, "refresh", s.CreateRefreshTokenSession(ctx, "rt-1", "at-1", r))
	must(t, "code", s.CreateAuthorizeCodeSession(ctx, "code-sig", r))
	must(t, "pkce", s.CreatePKCERequestSession(ctx, "code-sig", r))
	must(t, "oidc", s.CreateOpenIDConnectSession(ctx, "the-code", r))

	type read func(ctx context.Context) (any, error)
	reads := map[string]read{
		"client": func(ctx context.Context) (any, error) { return s.FindClient(ctx, "app") },
		"access token": func(ctx context.Context) (any, error) {
			return s.GetAccessTokenSession(ctx, "at-1", openid.NewDefaultSession())
		},
		"refresh token": func(ctx context.Context) (any, error) {
			return s.GetRefreshTokenSession(ctx, "rt-1", openid.NewDefaultSession())
		},
		"code": func(ctx context.Context) (any, error) {
			return s.GetAuthorizeCodeSession(ctx, "code-sig", openid.NewDefaultSession())
		},
		"pkce": func(ctx context.Context) (any, error) {
			return s.GetPKCERequestSession(ctx, "code-sig", openid.NewDefaultSession())
		},
		"oidc": func(ctx context.Context) (any, error) {
			return s.GetOpenIDConnectSession(ctx, "the-code", fosite.NewAccessRequest(openid.NewDefaultSession()))
		},
		"user of the refresh token":   func(ctx context.Context) (any, error) { return s.FindUser(ctx, "u-1") },
		"user of the browser session": func(ctx context.Context) (any, error) { return s.FindUser(ctx, "u-1") },
		"unknown client":              func(ctx context.Context) (any, error) { return s.FindClient(ctx, "nope") },
		"browser session":             func(ctx context.Context) (any, error) { return s.FindBrowserSession(ctx, "bs-1") },
		"expired browser session":     func(ctx context.Context) (any, error) { return s.FindBrowserSession(ctx, "bs-old") },
		"unknown browser session":     func(ctx context.Context) (any, error) { return s.FindBrowserSession(ctx, "bs-nope") },
		"consent":                     func(ctx context.Context) (any, error) { return s.FindConsent(ctx, "u-1", "app") },
		"expired consent":             func(ctx context.Context) (any, error) { return s.FindConsent(ctx, "u-1", "other") },
		"unknown token": func(ctx context.Context) (any, error) {
			return s.GetAccessTokenSession(ctx, "at-nope", openid.NewDefaultSession())
		},
	}
	prefetch := storage.Prefetch{ClientID: "app", Rows: []storage.PrefetchRow{
		{Kind: storage.AccessTokenRecord, Key: "at-1"},
		{Kind: storage.RefreshTokenRecord, Key: "rt-1"},
		{Kind: storage.AuthorizeCodeRecord, Key: "code-sig"},
		{Kind: storage.PKCERecord, Key: "code-sig"},
		{Kind: storage.OpenIDSessionRecord, Key: "the-code"},
		{Kind: storage.AccessTokenRecord, Key: "at-nope"},
	}, SubjectsOf: []storage.PrefetchRow{
		{Kind: storage.RefreshTokenRecord, Key: "rt-1"},
		{Kind: storage.AccessTokenRecord, Key: "at-nope"},
	}}
	for name, read := range reads {
		want, wantErr := read(ctx)
		pctx := s.Prefetch(ctx, prefetch)
		switch name {
		case "unknown client":
			pctx = s.Prefetch(ctx, storage.Prefetch{ClientID: "nope"})
		case "user of the browser session", "browser session", "consent":
			pctx = s.Prefetch(ctx, storage.Prefetch{ClientID: "app", BrowserSession: "bs-1"})
			_, err := s.FindUser(s.Prefetch(ctx, storage.Prefetch{BrowserSession: "bs-nope"}), "u-1")
			must(t, "user after the prefetch of a missing session's user", err)
			// A session that expired reads as missing, but its user and
			// her consent are not answered from it.
			octx := s.Prefetch(ctx, storage.Prefetch{ClientID: "app", BrowserSession: "bs-old"})
			_, err = s.FindConsent(octx, "u-1", "app")
			must(t, "consent after the prefetch of an expired session", err)
		case "expired browser session":
			pctx = s.Prefetch(ctx, storage.Prefetch{BrowserSession: "bs-old"})
		case "unknown browser session":
			pctx = s.Prefetch(ctx, storage.Prefetch{ClientID: "app", BrowserSession: "bs-nope"})
		case "expired consent":
			pctx = s.Prefetch(ctx, storage.Prefetch{ClientID: "other", BrowserSession: "bs-1"})
		case "user of the refresh token":
			// The subject of a token that does not exist names nobody.
			_, err := s.FindUser(s.Prefetch(ctx, storage.Prefetch{SubjectsOf: []storage.PrefetchRow{{Kind: storage.RefreshTokenRecord, Key: "rt-nope"}}}), "u-1")
			must(t, "user after the prefetch of a missing token's subject", err)
		}
		got, err := read(pctx)
		if (err == nil) != (wantErr == nil) || !reflect.DeepEqual(got, want) {
			t.Errorf("%s after Prefetch: got %#v, %v; want %#v, %v", name, got, err, want, wantErr)
		}
	}

	// Answered once: the second read is the database's.
	pctx := s.Prefetch(ctx, prefetch)
	_, err := s.GetAccessTokenSession(pctx, "at-1", openid.NewDefaultSession())
	must(t, "prefetched token", err)
	must(t, "delete token", s.DeleteAccessTokenSession(ctx, "at-1"))
	_, err = s.GetAccessTokenSession(pctx, "at-1", openid.NewDefaultSession())
	mustNotFound(t, "second read of a prefetched, since deleted token", err)

	// In a transaction, reads see its writes, not the prefetch.
	pctx = s.Prefetch(ctx, storage.Prefetch{Rows: []storage.PrefetchRow{{Kind: storage.AccessTokenRecord, Key: "at-2"}}})
	tx, err := s.BeginTX(pctx)
	must(t, "begin", err)
	must(t, "create in tx", s.CreateAccessTokenSession(tx, "at-2", r))
	_, err = s.GetAccessTokenSession(tx, "at-2", openid.NewDefaultSession())
	must(t, "token written in the transaction, prefetched as missing before it", err)
	must(t, "rollback", s.Rollback(tx))
}
