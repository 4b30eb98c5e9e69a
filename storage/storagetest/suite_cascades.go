package storagetest

import (
	"errors"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/storage"
)

// Deleting a user removes their sessions, consents, pending requests and
// every fosite record issued to them, and nothing of other users.
func testDeleteUserCascades(t *testing.T, s storage.Store) {
	ctx := ctxT(t)
	client := seedClient(t, s, "app")
	now := time.Now().UTC()
	for _, u := range []string{"u-gone", "u-kept"} {
		seedUser(t, s, u, "name-"+u)
		must(t, "session", s.CreateBrowserSession(ctx, &storage.BrowserSession{ID: "bs-" + u, SID: "sid-" + u, UserID: u, AuthTime: now, ExpiresAt: now.Add(time.Hour)}))
		must(t, "consent", s.SaveConsent(ctx, &storage.Consent{UserID: u, ClientID: "app", Scopes: []string{"openid"}}))
		must(t, "auth request", s.CreateAuthRequest(ctx, &storage.AuthRequest{ID: "ar-" + u, ClientID: "app", UserID: u, Query: "q", ExpiresAt: now.Add(time.Hour)}))
		r := newRequest(client, "req-"+u, u)
		must(t, "code", s.CreateAuthorizeCodeSession(ctx, "code-"+u, r))
		must(t, "access", s.CreateAccessTokenSession(ctx, "at-"+u, r))
		must(t, "refresh", s.CreateRefreshTokenSession(ctx, "rt-"+u, "at-"+u, r))
		must(t, "oidc", s.CreateOpenIDConnectSession(ctx, "code-"+u, r))
		must(t, "pkce", s.CreatePKCERequestSession(ctx, "code-"+u, r))
	}
	must(t, "delete user", s.DeleteUser(ctx, "u-gone"))

	for _, tc := range []struct {
		u       string
		present bool
	}{{"u-gone", false}, {"u-kept", true}} {
		check := func(what string, err error) {
			t.Helper()
			if tc.present && err != nil {
				t.Errorf("%s of %s: %v", what, tc.u, err)
			}
			if !tc.present && !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("%s of deleted %s: want ErrNotFound, got %v", what, tc.u, err)
			}
		}
		_, err := s.FindBrowserSession(ctx, "bs-"+tc.u)
		check("browser session", err)
		_, err = s.FindConsent(ctx, tc.u, "app")
		check("consent", err)
		_, err = s.FindAuthRequest(ctx, "ar-"+tc.u)
		check("auth request", err)
		_, err = s.GetAuthorizeCodeSession(ctx, "code-"+tc.u, nil)
		check("authorization code", err)
		_, err = s.GetAccessTokenSession(ctx, "at-"+tc.u, nil)
		check("access token", err)
		_, err = s.GetRefreshTokenSession(ctx, "rt-"+tc.u, nil)
		check("refresh token", err)
		_, err = s.GetOpenIDConnectSession(ctx, "code-"+tc.u, nil)
		check("oidc session", err)
		_, err = s.GetPKCERequestSession(ctx, "code-"+tc.u, nil)
		check("pkce request", err)
	}
}

// Deleting a client removes its tokens, codes, consents and pending
// requests, and nothing of other clients.
func testDeleteClientCascades(t *testing.T, s storage.Store) {
	ctx := ctxT(t)
	seedUser(t, s, "u-1", "erin")
	now := time.Now().UTC()
	for _, id := range []string{"gone", "kept"} {
		c := seedClient(t, s, id)
		must(t, "consent", s.SaveConsent(ctx, &storage.Consent{UserID: "u-1", ClientID: id, Scopes: []string{"openid"}}))
		must(t, "auth request", s.CreateAuthRequest(ctx, &storage.AuthRequest{ID: "ar-" + id, ClientID: id, Query: "q", ExpiresAt: now.Add(time.Hour)}))
		r := newRequest(c, "req-"+id, "u-1")
		must(t, "code", s.CreateAuthorizeCodeSession(ctx, "code-"+id, r))
		must(t, "access", s.CreateAccessTokenSession(ctx, "at-"+id, r))
		must(t, "refresh", s.CreateRefreshTokenSession(ctx, "rt-"+id, "at-"+id, r))
		must(t, "pkce", s.CreatePKCERequestSession(ctx, "code-"+id, r))
	}
	must(t, "delete client", s.DeleteClient(ctx, "gone"))

	_, err := s.FindConsent(ctx, "u-1", "gone")
	mustNotFound(t, "consent of deleted client", err)
	_, err = s.FindAuthRequest(ctx, "ar-gone")
	mustNotFound(t, "auth request of deleted client", err)
	_, err = s.GetAuthorizeCodeSession(ctx, "code-gone", nil)
	mustNotFound(t, "code of deleted client", err)
	_, err = s.GetAccessTokenSession(ctx, "at-gone", nil)
	mustNotFound(t, "access token of deleted client", err)
	_, err = s.GetRefreshTokenSession(ctx, "rt-gone", nil)
	mustNotFound(t, "refresh token of deleted client", err)
	_, err = s.GetPKCERequestSession(ctx, "code-gone", nil)
	mustNotFound(t, "pkce of deleted client", err)

	_, err = s.FindConsent(ctx, "u-1", "kept")
	must(t, "consent of other client", err)
	_, err = s.GetAccessTokenSession(ctx, "at-kept", nil)
	must(t, "access token of other client", err)
	_, err = s.GetRefreshTokenSession(ctx, "rt-kept", nil)
	must(t, "refresh token of other client", err)
}
