package storagetest

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/storage"
)

var errAbort = errors.New("abort requested by the test")

func testClients(t *testing.T, s storage.Store) {
	ctx := ctxT(t)
	created := time.Date(2024, 5, 6, 7, 8, 9, 123456000, time.UTC)
	want := &storage.Client{
		ID:                          "app",
		SecretDigest:                []byte{1, 2, 3, 0, 255},
		Name:                        "App",
		RedirectURIs:                []string{"https://app.example/cb", "http://127.0.0.1/cb"},
		PostLogoutRedirectURIs:      []string{"https://app.example/bye"},
		GrantTypes:                  []string{"authorization_code", "refresh_token", "client_credentials"},
		ResponseTypes:               []string{"code"},
		Scopes:                      []string{"openid", "profile", "email", "offline_access"},
		Audience:                    []string{"https://api.example"},
		Public:                      true,
		TokenEndpointAuthMethod:     storage.AuthMethodPrivateKeyJWT,
		JWKSURI:                     "https://app.example/jwks",
		JWKS:                        []byte(`{"keys":[]}`),
		TokenEndpointAuthSigningAlg: "ES256",
		SkipConsent:                 true,
		IDTokenSigningAlg:           "ES256",
		AccessTokenFormat:           storage.AccessTokenJWT,
		CreatedAt:                   created,
		UpdatedAt:                   created,
	}
	must(t, "create", s.CreateClient(ctx, want))
	if err := s.CreateClient(ctx, &storage.Client{ID: "app"}); !errors.Is(err, storage.ErrAlreadyExists) {
		t.Fatalf("duplicate client: want ErrAlreadyExists, got %v", err)
	}

	got, err := s.FindClient(ctx, "app")
	must(t, "find", err)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("client round trip:\n got %+v\nwant %+v", got, want)
	}
	fc, err := s.GetClient(ctx, "app")
	must(t, "GetClient", err)
	if c, ok := fc.(*storage.Client); !ok || c.ID != "app" {
		t.Fatalf("GetClient returned %T, want *storage.Client", fc)
	}
	_, err = s.GetClient(ctx, "nope")
	mustNotFound(t, "GetClient unknown", err)
	_, err = s.FindClient(ctx, "nope")
	mustNotFound(t, "FindClient unknown", err)

	seedClient(t, s, "another")
	list, err := s.ListClients(ctx)
	must(t, "list", err)
	if len(list) != 2 || list[0].ID != "another" || list[1].ID != "app" {
		t.Fatalf("ListClients: got %d clients", len(list))
	}

	// An error from fn aborts the update.
	err = s.UpdateClient(ctx, "app", func(c *storage.Client) error {
		c.Name = "changed"
		return errAbort
	})
	if !errors.Is(err, errAbort) {
		t.Fatalf("UpdateClient with failing fn: got %v", err)
	}
	if got, _ := s.FindClient(ctx, "app"); got.Name != "App" {
		t.Fatalf("aborted update was saved: name %q", got.Name)
	}
	must(t, "update", s.UpdateClient(ctx, "app", func(c *storage.Client) error {
		c.Name = "Renamed"
		c.Public = false
		c.RedirectURIs = nil
		return nil
	}))
	got, err = s.FindClient(ctx, "app")
	must(t, "find after update", err)
	if got.Name != "Renamed" || got.Public || got.RedirectURIs != nil || !got.UpdatedAt.After(created) {
		t.Fatalf("update not saved: %+v", got)
	}
	if err := s.UpdateClient(ctx, "app", func(c *storage.Client) error { c.ID = "other"; return nil }); err == nil {
		t.Fatal("UpdateClient let fn change the id")
	}
	mustNotFound(t, "UpdateClient unknown", s.UpdateClient(ctx, "nope", func(*storage.Client) error { return nil }))

	must(t, "delete", s.DeleteClient(ctx, "app"))
	_, err = s.FindClient(ctx, "app")
	mustNotFound(t, "find deleted", err)
	mustNotFound(t, "delete unknown", s.DeleteClient(ctx, "app"))
}

func testUsers(t *testing.T, s storage.Store) {
	ctx := ctxT(t)
	want := &storage.User{
		ID:            "u-1",
		Username:      "Zoë",
		Email:         "Zoe@Example.org",
		EmailVerified: true,
		DisplayName:   "Zoë Q.",
		PasswordHash:  "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
		Disabled:      true,
		CreatedAt:     time.Date(2023, 1, 2, 3, 4, 5, 6000, time.UTC),
		UpdatedAt:     time.Date(2023, 1, 2, 3, 4, 5, 6000, time.UTC),
	}
	must(t, "create", s.CreateUser(ctx, want))
	got, err := s.FindUser(ctx, "u-1")
	must(t, "find", err)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("user round trip:\n got %+v\nwant %+v", got, want)
	}
	for _, name := range []string{"Zoë", "zoë", "  ZOË ", "Zoe\u0308"} {
		got, err := s.FindUserByUsername(ctx, name)
		if err != nil || got.ID != "u-1" {
			t.Fatalf("FindUserByUsername(%q): %v", name, err)
		}
	}
	_, err = s.FindUserByUsername(ctx, "zoe")
	mustNotFound(t, "FindUserByUsername other name", err)
	_, err = s.FindUser(ctx, "nope")
	mustNotFound(t, "FindUser unknown", err)

	// Verified emails are unique after normalization (unverified ones need
	// not be: suite_recovery.go), and empty emails never clash.
	err = s.CreateUser(ctx, &storage.User{ID: "u-2", Username: "other", Email: "ZOE@example.ORG", EmailVerified: true})
	if !errors.Is(err, storage.ErrAlreadyExists) {
		t.Fatalf("duplicate email: want ErrAlreadyExists, got %v", err)
	}
	must(t, "user without email", s.CreateUser(ctx, &storage.User{ID: "u-3", Username: "noemail1"}))
	must(t, "second user without email", s.CreateUser(ctx, &storage.User{ID: "u-4", Username: "noemail2"}))
	if err := s.CreateUser(ctx, &storage.User{ID: "u-1", Username: "fresh"}); !errors.Is(err, storage.ErrAlreadyExists) {
		t.Fatalf("duplicate id: want ErrAlreadyExists, got %v", err)
	}

	list, err := s.ListUsers(ctx)
	must(t, "list", err)
	if len(list) != 3 {
		t.Fatalf("ListUsers: got %d users, want 3", len(list))
	}

	err = s.UpdateUser(ctx, "u-1", func(u *storage.User) error {
		u.Disabled = false
		return errAbort
	})
	if !errors.Is(err, errAbort) {
		t.Fatalf("UpdateUser with failing fn: got %v", err)
	}
	if got, _ := s.FindUser(ctx, "u-1"); !got.Disabled {
		t.Fatal("aborted user update was saved")
	}
	must(t, "update", s.UpdateUser(ctx, "u-1", func(u *storage.User) error {
		u.Disabled = false
		u.Username = "zoe2"
		u.Email = ""
		return nil
	}))
	got, err = s.FindUserByUsername(ctx, "ZOE2")
	must(t, "find renamed", err)
	if got.Disabled || got.Email != "" {
		t.Fatalf("update not saved: %+v", got)
	}
	// The old name is free again; taking a used name is refused.
	must(t, "reuse freed name", s.CreateUser(ctx, &storage.User{ID: "u-5", Username: "zoë"}))
	err = s.UpdateUser(ctx, "u-3", func(u *storage.User) error { u.Username = "Zoe2"; return nil })
	if !errors.Is(err, storage.ErrAlreadyExists) {
		t.Fatalf("rename onto a taken name: want ErrAlreadyExists, got %v", err)
	}
	mustNotFound(t, "UpdateUser unknown", s.UpdateUser(ctx, "nope", func(*storage.User) error { return nil }))

	must(t, "delete", s.DeleteUser(ctx, "u-1"))
	_, err = s.FindUser(ctx, "u-1")
	mustNotFound(t, "find deleted user", err)
	mustNotFound(t, "delete unknown user", s.DeleteUser(ctx, "u-1"))
}

// Usernames are unique case-insensitively after Unicode NFKC.
func testUsernameUniqueness(t *testing.T, s storage.Store) {
	ctx := ctxT(t)
	seedUser(t, s, "u-alice", "Alice")
	for i, name := range []string{"alice", "ALICE", "ａｌｉｃｅ", " Alice "} {
		u := &storage.User{ID: "u-dup-" + string(rune('a'+i)), Username: name}
		if err := s.CreateUser(ctx, u); !errors.Is(err, storage.ErrAlreadyExists) {
			t.Errorf("CreateUser(%q) after \"Alice\": want ErrAlreadyExists, got %v", name, err)
		}
		got, err := s.FindUserByUsername(ctx, name)
		if err != nil || got.ID != "u-alice" {
			t.Errorf("FindUserByUsername(%q): %v", name, err)
		}
	}
}

func testBrowserSessions(t *testing.T, s storage.Store) {
	ctx := ctxT(t)
	seedUser(t, s, "u-1", "bob")
	now := time.Now().UTC().Truncate(time.Microsecond)
	want := &storage.BrowserSession{
		ID: "digest-1", SID: "sid-1", UserID: "u-1", AuthTime: now.Add(-time.Hour), AMR: []string{"pwd", "otp"},
		CreatedAt: now.Add(-time.Hour), LastSeenAt: now, ExpiresAt: now.Add(time.Hour),
	}
	must(t, "create", s.CreateBrowserSession(ctx, want))
	got, err := s.FindBrowserSession(ctx, "digest-1")
	must(t, "find", err)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("browser session round trip:\n got %+v\nwant %+v", got, want)
	}
	dup := *want
	dup.ID = "digest-other"
	if err := s.CreateBrowserSession(ctx, &dup); !errors.Is(err, storage.ErrAlreadyExists) {
		t.Fatalf("duplicate sid: want ErrAlreadyExists, got %v", err)
	}

	err = s.UpdateBrowserSession(ctx, "digest-1", func(b *storage.BrowserSession) error {
		b.AMR = nil
		return errAbort
	})
	if !errors.Is(err, errAbort) {
		t.Fatalf("UpdateBrowserSession with failing fn: %v", err)
	}
	seen := now.Add(time.Minute)
	must(t, "update", s.UpdateBrowserSession(ctx, "digest-1", func(b *storage.BrowserSession) error {
		b.LastSeenAt = seen
		return nil
	}))
	got, err = s.FindBrowserSession(ctx, "digest-1")
	must(t, "find updated", err)
	if !got.LastSeenAt.Equal(seen) || len(got.AMR) != 2 {
		t.Fatalf("update: %+v", got)
	}

	expired := &storage.BrowserSession{ID: "digest-2", SID: "sid-2", UserID: "u-1", AuthTime: now, ExpiresAt: now.Add(-time.Second)}
	must(t, "create expired", s.CreateBrowserSession(ctx, expired))
	_, err = s.FindBrowserSession(ctx, "digest-2")
	mustNotFound(t, "find expired session", err)

	must(t, "delete", s.DeleteBrowserSession(ctx, "digest-1"))
	_, err = s.FindBrowserSession(ctx, "digest-1")
	mustNotFound(t, "find deleted session", err)
	must(t, "delete unknown session", s.DeleteBrowserSession(ctx, "digest-1"))

	for _, id := range []string{"a", "b"} {
		must(t, "create", s.CreateBrowserSession(ctx, &storage.BrowserSession{
			ID: "d-" + id, SID: "s-" + id, UserID: "u-1", AuthTime: now, ExpiresAt: now.Add(time.Hour),
		}))
	}
	must(t, "delete user sessions", s.DeleteUserBrowserSessions(ctx, "u-1"))
	for _, id := range []string{"d-a", "d-b"} {
		_, err := s.FindBrowserSession(ctx, id)
		mustNotFound(t, "session after DeleteUserBrowserSessions", err)
	}
}

func testAuthRequests(t *testing.T, s storage.Store) {
	ctx := ctxT(t)
	seedClient(t, s, "app")
	seedUser(t, s, "u-1", "carol")
	now := time.Now().UTC().Truncate(time.Microsecond)
	want := &storage.AuthRequest{
		ID: "ar-1", BindingDigest: "bind", ClientID: "app",
		Query:     "client_id=app&response_type=code&scope=openid",
		CreatedAt: now, ExpiresAt: now.Add(5 * time.Minute),
	}
	must(t, "create", s.CreateAuthRequest(ctx, want))
	got, err := s.FindAuthRequest(ctx, "ar-1")
	must(t, "find", err)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("auth request round trip:\n got %+v\nwant %+v", got, want)
	}
	if err := s.CreateAuthRequest(ctx, want); !errors.Is(err, storage.ErrAlreadyExists) {
		t.Fatalf("duplicate auth request: %v", err)
	}

	err = s.UpdateAuthRequest(ctx, "ar-1", func(r *storage.AuthRequest) error {
		r.UserID = "u-1"
		return errAbort
	})
	if !errors.Is(err, errAbort) {
		t.Fatalf("UpdateAuthRequest with failing fn: %v", err)
	}
	if got, _ := s.FindAuthRequest(ctx, "ar-1"); got.UserID != "" {
		t.Fatal("aborted auth request update was saved")
	}
	must(t, "update", s.UpdateAuthRequest(ctx, "ar-1", func(r *storage.AuthRequest) error {
		r.UserID, r.AuthTime, r.AMR, r.ConsentGiven = "u-1", now, []string{"pwd"}, true
		return nil
	}))
	got, err = s.FindAuthRequest(ctx, "ar-1")
	must(t, "find updated", err)
	if got.UserID != "u-1" || !got.AuthTime.Equal(now) || !got.ConsentGiven || len(got.AMR) != 1 {
		t.Fatalf("update: %+v", got)
	}

	must(t, "create expired", s.CreateAuthRequest(ctx, &storage.AuthRequest{
		ID: "ar-2", ClientID: "app", Query: "x", ExpiresAt: now.Add(-time.Second),
	}))
	_, err = s.FindAuthRequest(ctx, "ar-2")
	mustNotFound(t, "find expired auth request", err)

	must(t, "delete", s.DeleteAuthRequest(ctx, "ar-1"))
	_, err = s.FindAuthRequest(ctx, "ar-1")
	mustNotFound(t, "find deleted auth request", err)
}

func testConsents(t *testing.T, s storage.Store) {
	ctx := ctxT(t)
	seedClient(t, s, "app")
	seedUser(t, s, "u-1", "dave")
	_, err := s.FindConsent(ctx, "u-1", "app")
	mustNotFound(t, "find missing consent", err)

	now := time.Now().UTC().Truncate(time.Microsecond)
	want := &storage.Consent{UserID: "u-1", ClientID: "app", Scopes: []string{"openid", "profile"}, GrantedAt: now, ExpiresAt: now.Add(time.Hour)}
	must(t, "save", s.SaveConsent(ctx, want))
	got, err := s.FindConsent(ctx, "u-1", "app")
	must(t, "find", err)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("consent round trip:\n got %+v\nwant %+v", got, want)
	}

	// Saving again replaces; a zero expiry never expires.
	must(t, "replace", s.SaveConsent(ctx, &storage.Consent{UserID: "u-1", ClientID: "app", Scopes: []string{"openid"}, GrantedAt: now}))
	got, err = s.FindConsent(ctx, "u-1", "app")
	must(t, "find replaced", err)
	if len(got.Scopes) != 1 || !got.ExpiresAt.IsZero() {
		t.Fatalf("replaced consent: %+v", got)
	}

	must(t, "save expired", s.SaveConsent(ctx, &storage.Consent{UserID: "u-1", ClientID: "app", Scopes: []string{"openid"}, GrantedAt: now, ExpiresAt: now.Add(-time.Second)}))
	_, err = s.FindConsent(ctx, "u-1", "app")
	mustNotFound(t, "find expired consent", err)

	must(t, "save", s.SaveConsent(ctx, want))
	must(t, "delete", s.DeleteConsent(ctx, "u-1", "app"))
	_, err = s.FindConsent(ctx, "u-1", "app")
	mustNotFound(t, "find deleted consent", err)
}

func testSigningKeys(t *testing.T, s storage.Store) {
	ctx := ctxT(t)
	base := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	keys := []*storage.SigningKey{
		{KID: "k-new", Alg: "ES256", PublicJWK: []byte(`{"kty":"EC"}`), PrivateKeyCiphertext: []byte{9, 8, 7}, CreatedAt: base.Add(time.Hour), ActivateAt: base.Add(2 * time.Hour)},
		{KID: "k-old", Alg: "RS256", PublicJWK: []byte(`{"kty":"RSA"}`), PrivateKeyCiphertext: []byte{1, 2, 3}, CreatedAt: base, ActivateAt: base},
	}
	for _, k := range keys {
		must(t, "create "+k.KID, s.CreateSigningKey(ctx, k))
	}
	if err := s.CreateSigningKey(ctx, keys[0]); !errors.Is(err, storage.ErrAlreadyExists) {
		t.Fatalf("duplicate kid: %v", err)
	}
	list, err := s.ListSigningKeys(ctx)
	must(t, "list", err)
	if len(list) != 2 || !reflect.DeepEqual(list[0], keys[1]) || !reflect.DeepEqual(list[1], keys[0]) {
		t.Fatalf("ListSigningKeys: want oldest first, exact round trip; got %+v", list)
	}

	retired := base.Add(3 * time.Hour)
	err = s.UpdateSigningKey(ctx, "k-old", func(k *storage.SigningKey) error {
		k.RetiredAt = &retired
		return errAbort
	})
	if !errors.Is(err, errAbort) {
		t.Fatalf("UpdateSigningKey with failing fn: %v", err)
	}
	must(t, "retire", s.UpdateSigningKey(ctx, "k-old", func(k *storage.SigningKey) error {
		k.RetiredAt = &retired
		return nil
	}))
	list, err = s.ListSigningKeys(ctx)
	must(t, "list", err)
	if list[0].RetiredAt == nil || !list[0].RetiredAt.Equal(retired) || list[1].RetiredAt != nil {
		t.Fatalf("retire not saved: %+v", list)
	}
	mustNotFound(t, "update unknown key", s.UpdateSigningKey(ctx, "nope", func(*storage.SigningKey) error { return nil }))
}
