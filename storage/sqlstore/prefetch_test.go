package sqlstore

import (
	"errors"
	"testing"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/openid"

	"github.com/gatehouse/gatehouse/storage"
	"github.com/gatehouse/gatehouse/storage/storagetest"
)

// On PostgreSQL a Prefetch reads the rows when it is made: a row deleted
// afterwards is still answered once from what it read, and a client and a
// token it found missing are answered as missing without a query, and a
// token's user, a browser session and her consent are answered as they
// were.
func TestPrefetchReadsWhenMade(t *testing.T) {
	s := migratedStore(t, storagetest.PostgresDSN(t))
	ctx := t.Context()
	client := &storage.Client{ID: "app", Name: "App", GrantTypes: []string{"client_credentials"}}
	if err := s.CreateClient(ctx, client); err != nil {
		t.Fatal(err)
	}
	user := &storage.User{ID: "u-1", Username: "ursula", DisplayName: "Ursula", PasswordHash: "x"}
	if err := s.CreateUser(ctx, user); err != nil {
		t.Fatal(err)
	}
	sess := openid.NewDefaultSession()
	sess.Subject = "u-1"
	req := &fosite.Request{ID: "req-1", Client: client, Session: sess}
	if err := s.CreateAccessTokenSession(ctx, "at-1", req); err != nil {
		t.Fatal(err)
	}
	pctx := s.Prefetch(ctx, storage.Prefetch{ClientID: "app", Rows: []storage.PrefetchRow{
		{Kind: storage.AccessTokenRecord, Key: "at-1"},
		{Kind: storage.AccessTokenRecord, Key: "at-2"},
	}, SubjectsOf: []storage.PrefetchRow{{Kind: storage.AccessTokenRecord, Key: "at-1"}}})
	now := time.Now().UTC()
	if err := s.CreateBrowserSession(ctx, &storage.BrowserSession{ID: "bs-1", SID: "sid-1", UserID: "u-1", AuthTime: now, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	beforeConsentCtx := s.Prefetch(ctx, storage.Prefetch{ClientID: "app", BrowserSession: "bs-1"})
	if err := s.SaveConsent(ctx, &storage.Consent{UserID: "u-1", ClientID: "app", Scopes: []string{"openid"}, GrantedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.FindConsent(beforeConsentCtx, "u-1", "app"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("consent given after the prefetch: %v, want the prefetched absence", err)
	}
	sessionCtx := s.Prefetch(ctx, storage.Prefetch{ClientID: "app", BrowserSession: "bs-1"})
	if err := s.DeleteBrowserSession(ctx, "bs-1"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteConsent(ctx, "u-1", "app"); err != nil {
		t.Fatal(err)
	}
	if b, err := s.FindBrowserSession(sessionCtx, "bs-1"); err != nil || b.UserID != "u-1" {
		t.Errorf("prefetched browser session, deleted since: %+v, %v; want it as it was when the prefetch was made", b, err)
	}
	if c, err := s.FindConsent(sessionCtx, "u-1", "app"); err != nil || len(c.Scopes) != 1 {
		t.Errorf("prefetched consent, deleted since: %+v, %v; want it as it was when the prefetch was made", c, err)
	}
	if err := s.DeleteAccessTokenSession(ctx, "at-1"); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateUser(ctx, "u-1", func(u *storage.User) error { u.DisplayName = "Renamed"; return nil }); err != nil {
		t.Fatal(err)
	}
	if u, err := s.FindUser(pctx, "u-1"); err != nil || u.DisplayName != "Ursula" {
		t.Errorf("prefetched user of a token: %+v, %v; want her as she was when the prefetch was made", u, err)
	}
	if u, err := s.FindUser(sessionCtx, "u-1"); err != nil || u.DisplayName != "Ursula" {
		t.Errorf("prefetched user of a browser session: %+v, %v; want her as she was when the prefetch was made", u, err)
	}
	if err := s.CreateAccessTokenSession(ctx, "at-2", req); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetAccessTokenSession(pctx, "at-1", openid.NewDefaultSession()); err != nil {
		t.Errorf("token deleted after the prefetch: %v, want the prefetched row", err)
	}
	if _, err := s.GetAccessTokenSession(pctx, "at-2", openid.NewDefaultSession()); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("token created after the prefetch: %v, want the prefetched absence", err)
	}
	if c, err := s.FindClient(pctx, "app"); err != nil || c.Name != "App" {
		t.Errorf("prefetched client: %+v, %v", c, err)
	}
}
