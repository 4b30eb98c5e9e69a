package storagetest

import (
	"errors"
	"testing"
	"time"

	"github.com/ory/fosite"

	"github.com/gatehouse/gatehouse/storage"
)

func testConnectedApps(t *testing.T, s storage.Store) {
	ctx := ctxT(t)
	calendar := seedClient(t, s, "calendar")
	photos := seedClient(t, s, "photos")
	at := func(c *storage.Client, user, id string, when time.Time) {
		r := newRequest(c, "req-"+id, user)
		r.RequestedAt = when
		must(t, "code", s.CreateAuthorizeCodeSession(ctx, "code-"+id, r))
		must(t, "access", s.CreateAccessTokenSession(ctx, "at-"+id, r))
		must(t, "refresh", s.CreateRefreshTokenSession(ctx, "rt-"+id, "at-"+id, r))
	}
	base := time.Now().UTC().Truncate(time.Second)
	at(calendar, "alice", "1", base.Add(-time.Hour))
	at(calendar, "alice", "2", base)
	at(photos, "alice", "3", base)
	at(calendar, "bob", "4", base)

	last, err := s.LastTokenIssued(ctx, "alice", "calendar")
	must(t, "last token", err)
	if !last.Equal(base) {
		t.Errorf("last token issued = %v, want %v", last, base)
	}
	if last, _ := s.LastTokenIssued(ctx, "carol", "calendar"); !last.IsZero() {
		t.Errorf("no tokens: %v", last)
	}

	must(t, "revoke", s.RevokeUserClientTokens(ctx, "alice", "calendar"))
	for _, id := range []string{"1", "2"} {
		_, err := s.GetAccessTokenSession(ctx, "at-"+id, nil)
		mustNotFound(t, "alice's calendar access token", err)
		if _, err := s.GetRefreshTokenSession(ctx, "rt-"+id, nil); !errors.Is(err, fosite.ErrInactiveToken) {
			t.Errorf("alice's calendar refresh token: %v", err)
		}
		if _, err := s.GetAuthorizeCodeSession(ctx, "code-"+id, nil); !errors.Is(err, fosite.ErrInvalidatedAuthorizeCode) {
			t.Errorf("alice's calendar code: %v", err)
		}
	}
	for _, id := range []string{"3", "4"} {
		_, err := s.GetAccessTokenSession(ctx, "at-"+id, nil)
		must(t, "other tokens stay", err)
	}

	seedUser(t, s, "u1", "ann")
	for _, id := range []string{"s1", "s2", "s3"} {
		must(t, "session", s.CreateBrowserSession(ctx, &storage.BrowserSession{ID: id, SID: "sid-" + id, UserID: "u1", AuthTime: base, CreatedAt: base, LastSeenAt: base, ExpiresAt: base.Add(time.Hour)}))
	}
	listed, err := s.ListUserBrowserSessions(ctx, "u1")
	must(t, "list sessions", err)
	if len(listed) != 3 || listed[0].UserID != "u1" {
		t.Fatalf("sessions of u1 = %d", len(listed))
	}
	must(t, "end others", s.DeleteOtherBrowserSessions(ctx, "u1", "s2"))
	if listed, _ := s.ListUserBrowserSessions(ctx, "u1"); len(listed) != 1 || listed[0].SID != "sid-s2" {
		t.Errorf("sessions after ending the others = %+v", listed)
	}
	for id, want := range map[string]bool{"s1": false, "s2": true, "s3": false} {
		_, err := s.FindBrowserSession(ctx, id)
		if got := err == nil; got != want {
			t.Errorf("session %s kept = %v, want %v (%v)", id, got, want, err)
		}
	}
}
