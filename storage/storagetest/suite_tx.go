package storagetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/openid"

	"github.com/gatehouse/gatehouse/storage"
)

func testTransactions(t *testing.T, s storage.Store) {
	ctx := ctxT(t)
	client := seedClient(t, s, "app")

	// Rollback discards, and methods inside the transaction see its writes.
	tx, err := s.BeginTX(ctx)
	must(t, "begin", err)
	must(t, "create client in tx", s.CreateClient(tx, &storage.Client{ID: "in-tx"}))
	if _, err := s.FindClient(tx, "in-tx"); err != nil {
		t.Fatalf("the transaction does not see its own write: %v", err)
	}
	must(t, "create token in tx", s.CreateAccessTokenSession(tx, "at-tx", newRequest(client, "req-tx", "u-1")))
	if _, err := s.GetAccessTokenSession(tx, "at-tx", openid.NewDefaultSession()); err != nil {
		t.Fatalf("the transaction does not see its own token: %v", err)
	}
	must(t, "update in tx", s.UpdateClient(tx, "app", func(c *storage.Client) error { c.Name = "tx"; return nil }))
	must(t, "rollback", s.Rollback(tx))
	_, err = s.FindClient(ctx, "in-tx")
	mustNotFound(t, "client after rollback", err)
	_, err = s.GetAccessTokenSession(ctx, "at-tx", nil)
	mustNotFound(t, "token after rollback", err)
	if c, _ := s.FindClient(ctx, "app"); c.Name == "tx" {
		t.Fatal("an Update* joined to a rolled back transaction was kept")
	}
	must(t, "rollback twice is harmless", s.Rollback(tx))

	// Commit keeps.
	tx, err = s.BeginTX(ctx)
	must(t, "begin", err)
	must(t, "create client in tx", s.CreateClient(tx, &storage.Client{ID: "committed"}))
	must(t, "commit", s.Commit(tx))
	_, err = s.FindClient(ctx, "committed")
	must(t, "client after commit", err)

	// A failing Update* inside a transaction leaves the transaction usable
	// for the caller to roll back.
	tx, err = s.BeginTX(ctx)
	must(t, "begin", err)
	err = s.UpdateClient(tx, "app", func(*storage.Client) error { return errAbort })
	if !errors.Is(err, errAbort) {
		t.Fatalf("update in tx: %v", err)
	}
	must(t, "rollback", s.Rollback(tx))
}

// A transaction that only writes, as the token endpoint's do, keeps all of
// its writes or none: a write that fails fails the transaction (at the
// write or at the commit, a store may send writes late) and takes the
// others with it. Many such transactions in a row leave the store usable
// (none keeps a connection).
func testWriteOnlyTransactions(t *testing.T, s storage.Store) {
	ctx := ctxT(t)
	client := seedClient(t, s, "app")
	must(t, "existing token", s.CreateAccessTokenSession(ctx, "at-taken", newRequest(client, "req-taken", "u-1")))
	must(t, "old token", s.CreateAccessTokenSession(ctx, "at-old", newRequest(client, "req-old", "u-1")))

	err := storage.InTx(ctx, s, func(tx context.Context) error {
		if err := s.RevokeAccessToken(tx, "req-old"); err != nil {
			return err
		}
		if err := s.CreateAccessTokenSession(tx, "at-new", newRequest(client, "req-new", "u-1")); err != nil {
			return err
		}
		return s.CreateRefreshTokenSession(tx, "rt-new", "at-new", newRequest(client, "req-new", "u-1"))
	})
	must(t, "write-only transaction", err)
	_, err = s.GetAccessTokenSession(ctx, "at-new", nil)
	must(t, "token of a committed write-only transaction", err)
	_, err = s.GetRefreshTokenSession(ctx, "rt-new", nil)
	must(t, "refresh token of a committed write-only transaction", err)
	_, err = s.GetAccessTokenSession(ctx, "at-old", nil)
	mustNotFound(t, "token revoked in a committed write-only transaction", err)

	for i := range 30 {
		err := storage.InTx(ctx, s, func(tx context.Context) error {
			if err := s.RevokeAccessToken(tx, "req-taken"); err != nil {
				return err
			}
			if err := s.CreateAccessTokenSession(tx, fmt.Sprintf("at-lost-%d", i), newRequest(client, "req-lost", "u-1")); err != nil {
				return err
			}
			return s.CreateAccessTokenSession(tx, "at-new", newRequest(client, "req-dup", "u-1"))
		})
		if !errors.Is(err, storage.ErrAlreadyExists) {
			t.Fatalf("transaction with a duplicate token: got %v, want ErrAlreadyExists", err)
		}
		_, err = s.GetAccessTokenSession(ctx, fmt.Sprintf("at-lost-%d", i), nil)
		mustNotFound(t, "token written before the failing write", err)
	}
	_, err = s.GetAccessTokenSession(ctx, "at-taken", nil)
	must(t, "token deleted by a failed transaction", err)

	// A code exchanged twice: the second exchange fails, at the
	// invalidation or at the commit, and keeps none of its writes.
	must(t, "code", s.CreateAuthorizeCodeSession(ctx, "code-1", newRequest(client, "req-code", "u-1")))
	exchange := func(access string) error {
		return storage.InTx(ctx, s, func(tx context.Context) error {
			if err := s.InvalidateAuthorizeCodeSession(tx, "code-1"); err != nil {
				return err
			}
			return s.CreateAccessTokenSession(tx, access, newRequest(client, "req-code", "u-1"))
		})
	}
	must(t, "first exchange", exchange("at-code-1"))
	err = exchange("at-code-2")
	if !errors.Is(err, fosite.ErrInvalidatedAuthorizeCode) || !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("second exchange of a code: got %v, want ErrInvalidatedAuthorizeCode and ErrConflict", err)
	}
	_, err = s.GetAccessTokenSession(ctx, "at-code-2", nil)
	mustNotFound(t, "token of the second exchange", err)

	tx, err := s.BeginTX(ctx)
	must(t, "begin", err)
	must(t, "create token in tx", s.CreateAccessTokenSession(tx, "at-rolled-back", newRequest(client, "req-rb", "u-1")))
	must(t, "rollback", s.Rollback(tx))
	_, err = s.GetAccessTokenSession(ctx, "at-rolled-back", nil)
	mustNotFound(t, "token of a rolled back write-only transaction", err)
	if err := s.Commit(tx); err == nil {
		t.Fatal("commit after rollback succeeded")
	}
}

// N token requests race to rotate one refresh token as fosite's refresh
// handler does: read the token outside the transaction, then rotate, issue a
// new access and refresh token and commit. Exactly one wins; the others fail
// with ErrSerializationFailure and leave nothing behind.
func testConcurrentRefresh(t *testing.T, s storage.Store) {
	const n = 8
	ctx := ctxT(t)
	client := seedClient(t, s, "app")
	r := newRequest(client, "req-1", "u-1")
	must(t, "create access", s.CreateAccessTokenSession(ctx, "at-0", r))
	must(t, "create refresh", s.CreateRefreshTokenSession(ctx, "rt-0", "at-0", r))

	var ready sync.WaitGroup
	ready.Add(n)
	start := make(chan struct{})
	errs := make([]error, n)
	var done sync.WaitGroup
	for i := range n {
		done.Add(1)
		go func() {
			defer done.Done()
			ready.Done()
			<-start
			errs[i] = refresh(ctx, s, "rt-0", fmt.Sprintf("at-%d", i+1), fmt.Sprintf("rt-%d", i+1))
		}()
	}
	ready.Wait()
	close(start) // the barrier: all goroutines are released together
	done.Wait()

	winners := 0
	for i, err := range errs {
		switch {
		case err == nil:
			winners++
		case errors.Is(err, fosite.ErrSerializationFailure), errors.Is(err, fosite.ErrInactiveToken):
			// The loser hit the conditional update, or read after the
			// winner committed (fosite then takes the reuse path).
		default:
			t.Errorf("request %d: unexpected error %v", i, err)
		}
	}
	if winners != 1 {
		t.Fatalf("%d of %d concurrent rotations succeeded, want exactly 1", winners, n)
	}
	active := 0
	for i := 1; i <= n; i++ {
		_, rtErr := s.GetRefreshTokenSession(ctx, fmt.Sprintf("rt-%d", i), nil)
		_, atErr := s.GetAccessTokenSession(ctx, fmt.Sprintf("at-%d", i), nil)
		if (rtErr == nil) != (atErr == nil) {
			t.Errorf("request %d: refresh %v but access %v", i, rtErr, atErr)
		}
		if rtErr == nil {
			active++
		}
	}
	if active != 1 {
		t.Fatalf("%d new refresh tokens exist, want 1", active)
	}
}

// refresh mirrors fosite's refresh-token flow against the store.
func refresh(ctx context.Context, s storage.Store, oldSig, newAccess, newRefresh string) (err error) {
	req, err := s.GetRefreshTokenSession(ctx, oldSig, openid.NewDefaultSession())
	if err != nil {
		return err
	}
	tx, err := s.BeginTX(ctx)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, s.Rollback(tx))
		}
	}()
	if err := s.RotateRefreshToken(tx, req.GetID(), oldSig); err != nil {
		return err
	}
	if err := s.CreateAccessTokenSession(tx, newAccess, req); err != nil {
		return err
	}
	if err := s.CreateRefreshTokenSession(tx, newRefresh, newAccess, req); err != nil {
		return err
	}
	return s.Commit(tx)
}

// Times written in any zone come back in UTC, equal to microseconds.
func testUTCRoundTrip(t *testing.T, s storage.Store) {
	ctx := ctxT(t)
	zone := time.FixedZone("UTC+05:30", 5*3600+30*60)
	at := time.Date(2024, 12, 31, 23, 59, 58, 123456789, zone)
	want := at.Truncate(time.Microsecond)
	check := func(what string, got time.Time) {
		t.Helper()
		if !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("%s: got %v (%v), want %v in UTC", what, got, got.Location(), want.UTC())
		}
	}

	must(t, "user", s.CreateUser(ctx, &storage.User{ID: "u-1", Username: "frank", CreatedAt: at, UpdatedAt: at}))
	u, err := s.FindUser(ctx, "u-1")
	must(t, "find user", err)
	check("user created_at", u.CreatedAt)

	must(t, "client", s.CreateClient(ctx, &storage.Client{ID: "app", CreatedAt: at, UpdatedAt: at}))
	c, err := s.FindClient(ctx, "app")
	must(t, "find client", err)
	check("client created_at", c.CreatedAt)

	must(t, "session", s.CreateBrowserSession(ctx, &storage.BrowserSession{
		ID: "bs", SID: "sid", UserID: "u-1", AuthTime: at, CreatedAt: at, LastSeenAt: at, ExpiresAt: time.Now().In(zone).Add(time.Hour),
	}))
	b, err := s.FindBrowserSession(ctx, "bs")
	must(t, "find session", err)
	check("session auth_time", b.AuthTime)

	must(t, "consent", s.SaveConsent(ctx, &storage.Consent{UserID: "u-1", ClientID: "app", GrantedAt: at}))
	cons, err := s.FindConsent(ctx, "u-1", "app")
	must(t, "find consent", err)
	check("consent granted_at", cons.GrantedAt)

	retired := at
	must(t, "key", s.CreateSigningKey(ctx, &storage.SigningKey{KID: "k", Alg: "RS256", PublicJWK: []byte("{}"), PrivateKeyCiphertext: []byte{1}, CreatedAt: at, ActivateAt: at, RetiredAt: &retired}))
	keys, err := s.ListSigningKeys(ctx)
	must(t, "list keys", err)
	check("key activate_at", keys[0].ActivateAt)
	check("key retired_at", *keys[0].RetiredAt)

	r := newRequest(c, "req-1", "u-1")
	r.RequestedAt = at
	must(t, "token", s.CreateAccessTokenSession(ctx, "at", r))
	got, err := s.GetAccessTokenSession(ctx, "at", openid.NewDefaultSession())
	must(t, "get token", err)
	check("request requested_at", got.GetRequestedAt())

	// An expiry written in another zone compares correctly with now: a
	// session expiring in an hour is found, one that expired a second ago
	// is not, whatever the zones.
	must(t, "expired session", s.CreateBrowserSession(ctx, &storage.BrowserSession{
		ID: "bs-old", SID: "sid-old", UserID: "u-1", AuthTime: at, ExpiresAt: time.Now().In(zone).Add(-time.Second),
	}))
	_, err = s.FindBrowserSession(ctx, "bs-old")
	mustNotFound(t, "session expired in another zone", err)
}

// DeleteExpired removes expired rows and keeps the others.
func testDeleteExpired(t *testing.T, s storage.Store) {
	ctx := ctxT(t)
	client := seedClient(t, s, "app")
	seedUser(t, s, "u-1", "grace")
	now := time.Now().UTC()
	past, future := now.Add(-time.Minute), now.Add(time.Hour)

	for name, exp := range map[string]time.Time{"old": past, "new": future} {
		must(t, "session", s.CreateBrowserSession(ctx, &storage.BrowserSession{ID: "bs-" + name, SID: "sid-" + name, UserID: "u-1", AuthTime: now, ExpiresAt: exp}))
		must(t, "auth request", s.CreateAuthRequest(ctx, &storage.AuthRequest{ID: "ar-" + name, ClientID: "app", Query: "q", ExpiresAt: exp}))
		r := newRequest(client, "req-"+name, "u-1")
		sess := r.Session.(*openid.DefaultSession)
		for _, tt := range []fosite.TokenType{fosite.AuthorizeCode, fosite.AccessToken, fosite.RefreshToken} {
			sess.SetExpiresAt(tt, exp)
		}
		must(t, "code", s.CreateAuthorizeCodeSession(ctx, "code-"+name, r))
		must(t, "access", s.CreateAccessTokenSession(ctx, "at-"+name, r))
		must(t, "refresh", s.CreateRefreshTokenSession(ctx, "rt-"+name, "at-"+name, r))
		must(t, "pkce", s.CreatePKCERequestSession(ctx, "code-"+name, r))
		must(t, "oidc", s.CreateOpenIDConnectSession(ctx, "code-"+name, r))
	}
	// A used refresh token is kept until it expires, so reuse stays visible.
	used := newRequest(client, "req-used", "u-1")
	must(t, "used refresh", s.CreateRefreshTokenSession(ctx, "rt-used", "", used))
	must(t, "rotate", s.RotateRefreshToken(ctx, "req-used", "rt-used"))
	// An expired record is still returned until it is cleaned up: fosite
	// checks lifetimes itself.
	_, err := s.GetAccessTokenSession(ctx, "at-old", nil)
	must(t, "expired access token before clean-up", err)

	must(t, "delete expired", s.DeleteExpired(ctx, now))

	lookups := map[string]func(string) error{
		"browser session": func(id string) error {
			return s.UpdateBrowserSession(ctx, "bs-"+id, func(*storage.BrowserSession) error { return nil })
		},
		"auth request": func(id string) error {
			return s.UpdateAuthRequest(ctx, "ar-"+id, func(*storage.AuthRequest) error { return nil })
		},
		"code": func(id string) error {
			_, err := s.GetAuthorizeCodeSession(ctx, "code-"+id, nil)
			return err
		},
		"access token":  func(id string) error { _, err := s.GetAccessTokenSession(ctx, "at-"+id, nil); return err },
		"refresh token": func(id string) error { _, err := s.GetRefreshTokenSession(ctx, "rt-"+id, nil); return err },
		"pkce":          func(id string) error { _, err := s.GetPKCERequestSession(ctx, "code-"+id, nil); return err },
		"oidc":          func(id string) error { _, err := s.GetOpenIDConnectSession(ctx, "code-"+id, nil); return err },
	}
	if _, err := s.GetRefreshTokenSession(ctx, "rt-used", nil); !errors.Is(err, fosite.ErrInactiveToken) {
		t.Errorf("used, unexpired refresh token after DeleteExpired: want ErrInactiveToken, got %v", err)
	}
	for what, lookup := range lookups {
		mustNotFound(t, "expired "+what+" after DeleteExpired", lookup("old"))
		if err := lookup("new"); err != nil {
			t.Errorf("unexpired %s after DeleteExpired: %v", what, err)
		}
	}
}

func testPing(t *testing.T, s storage.Store) {
	must(t, "ping", s.Ping(ctxT(t)))
}
