package sqlstore

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/openid"

	"github.com/gatehouse/gatehouse/storage"
)

type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// With a refresh grace period, a rotated token may be used again within the
// period (multi-tab apps); after it, or once the family is revoked, a use is
// reuse again.
func TestRefreshGracePeriod(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			clock := &testClock{now: time.Now().UTC()}
			s := openStore(t, d.dsn(t), Options{RefreshGracePeriod: 10 * time.Second, Now: clock.Now})
			if _, err := s.Migrate(t.Context()); err != nil {
				t.Fatal(err)
			}
			ctx := t.Context()
			client := &storage.Client{ID: "c1", Name: "c", GrantTypes: []string{"refresh_token"}}
			if err := s.CreateClient(ctx, client); err != nil {
				t.Fatal(err)
			}
			req := &fosite.Request{ID: "req-1", RequestedAt: clock.Now(), Client: client,
				Session: &openid.DefaultSession{Subject: "u1"}}
			for _, sig := range []string{"rt-1", "rt-2"} {
				if err := s.CreateRefreshTokenSession(ctx, sig, "at-"+sig, req); err != nil {
					t.Fatal(err)
				}
				if err := s.CreateAccessTokenSession(ctx, "at-"+sig, req); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.RotateRefreshToken(ctx, "req-1", "rt-1"); err != nil {
				t.Fatalf("first rotation: %v", err)
			}
			// Only the paired access token goes; the other tab's stays.
			if _, err := s.GetAccessTokenSession(ctx, "at-rt-1", nil); !errors.Is(err, fosite.ErrNotFound) {
				t.Errorf("paired access token: %v", err)
			}
			if _, err := s.GetAccessTokenSession(ctx, "at-rt-2", nil); err != nil {
				t.Errorf("unrelated access token deleted: %v", err)
			}
			clock.Advance(5 * time.Second)
			if _, err := s.GetRefreshTokenSession(ctx, "rt-1", nil); err != nil {
				t.Fatalf("within grace: %v", err)
			}
			if err := s.RotateRefreshToken(ctx, "req-1", "rt-1"); err != nil {
				t.Fatalf("second rotation within grace: %v", err)
			}
			clock.Advance(6 * time.Second)
			if _, err := s.GetRefreshTokenSession(ctx, "rt-1", nil); !errors.Is(err, fosite.ErrInactiveToken) {
				t.Fatalf("after grace: %v", err)
			}
			if err := s.RotateRefreshToken(ctx, "req-1", "rt-1"); !errors.Is(err, storage.ErrConflict) {
				t.Fatalf("rotation after grace: %v", err)
			}

			// A revoked family gets no grace.
			if err := s.RotateRefreshToken(ctx, "req-1", "rt-2"); err != nil {
				t.Fatal(err)
			}
			if err := s.RevokeRefreshToken(ctx, "req-1"); err != nil {
				t.Fatal(err)
			}
			if _, err := s.GetRefreshTokenSession(ctx, "rt-2", nil); !errors.Is(err, fosite.ErrInactiveToken) {
				t.Fatalf("revoked token within grace: %v", err)
			}
		})
	}
}
