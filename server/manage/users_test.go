package manage_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ory/fosite/handler/openid"

	"github.com/gatehouse/gatehouse/server/manage"
	"github.com/gatehouse/gatehouse/storage"
	"github.com/gatehouse/gatehouse/storage/storagetest"
)

const goodPassword = "correct horse battery"

func TestCreateUserValidation(t *testing.T) {
	tests := []struct {
		name      string
		spec      manage.UserSpec
		wantField string
	}{
		{"valid", manage.UserSpec{Username: "alice", Email: "alice@example.com", Password: goodPassword}, ""},
		{"no password", manage.UserSpec{Username: "bob", Email: "bob@example.com"}, ""},
		{"unicode username", manage.UserSpec{Username: "zoë", Email: "zoe@example.com", DisplayName: "Zoë Ü"}, ""},
		{"empty username", manage.UserSpec{Username: " ", Email: "x@example.com"}, "username"},
		{"long username", manage.UserSpec{Username: strings.Repeat("a", 65), Email: "x@example.com"}, "username"},
		{"64-character username", manage.UserSpec{Username: strings.Repeat("é", 64), Email: "long@example.com"}, ""},
		{"control in username", manage.UserSpec{Username: "a\nb", Email: "x@example.com"}, "username"},
		{"no email", manage.UserSpec{Username: "carol"}, "email"},
		{"bad email", manage.UserSpec{Username: "carol", Email: "carol"}, "email"},
		{"email with name", manage.UserSpec{Username: "carol", Email: "Carol <carol@example.com>"}, "email"},
		{"short password", manage.UserSpec{Username: "carol", Email: "carol@example.com", Password: "short"}, "password"},
		{"long password", manage.UserSpec{Username: "carol", Email: "carol@example.com", Password: strings.Repeat("x", 1025)}, "password"},
		{"control in display name", manage.UserSpec{Username: "carol", Email: "carol@example.com", DisplayName: "C\x00"}, "display_name"},
	}
	f := newFixture(t, storagetest.SQLiteDSN(t))
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u, err := f.svc.CreateUser(context.Background(), tc.spec)
			if tc.wantField == "" {
				if err != nil {
					t.Fatalf("CreateUser: %v", err)
				}
				if len(u.ID) < 16 || u.ID == u.Username {
					t.Fatalf("user id %q is not a random identifier", u.ID)
				}
				if (u.PasswordHash != "") != (tc.spec.Password != "") || strings.Contains(u.PasswordHash, tc.spec.Password) && tc.spec.Password != "" {
					t.Fatalf("password hash %q does not match the request", u.PasswordHash)
				}
				return
			}
			var verr *manage.ValidationError
			if !errors.As(err, &verr) || verr.Field != tc.wantField {
				t.Fatalf("CreateUser error = %v, want a ValidationError on %s", err, tc.wantField)
			}
			if tc.spec.Password != "" && strings.Contains(err.Error(), tc.spec.Password) {
				t.Fatal("the error message quotes the password")
			}
		})
	}
}

func TestCreateUserDuplicates(t *testing.T) {
	backends(t, func(t *testing.T, f fixture) {
		ctx := context.Background()
		if _, err := f.svc.CreateUser(ctx, manage.UserSpec{Username: "Alice", Email: "alice@example.com", Password: goodPassword}); err != nil {
			t.Fatal(err)
		}
		for _, spec := range []manage.UserSpec{
			{Username: "alice", Email: "other@example.com"},
			{Username: "ＡＬＩＣＥ", Email: "other@example.com"}, // fullwidth: NFKC folds it to ALICE
			{Username: "alice2", Email: "ALICE@example.com"},
		} {
			_, err := f.svc.CreateUser(ctx, spec)
			var verr *manage.ValidationError
			if !errors.As(err, &verr) || !errors.Is(err, storage.ErrAlreadyExists) || !strings.Contains(verr.Message, "already taken") {
				t.Errorf("CreateUser(%q, %q) = %v, want \"already taken\"", spec.Username, spec.Email, err)
			}
		}
	})
}

func TestUserLifecycle(t *testing.T) {
	backends(t, func(t *testing.T, f fixture) {
		ctx := context.Background()
		u, err := f.svc.CreateUser(ctx, manage.UserSpec{Username: "alice", Email: "alice@example.com", Password: goodPassword})
		if err != nil {
			t.Fatal(err)
		}
		for _, key := range []string{u.ID, "alice", "ALICE"} {
			got, err := f.svc.GetUser(ctx, key)
			if err != nil || got.ID != u.ID {
				t.Fatalf("GetUser(%q) = %v, %v; want %s", key, got, err, u.ID)
			}
		}
		var nf *manage.NotFoundError
		if _, err := f.svc.GetUser(ctx, "nobody"); !errors.As(err, &nf) || !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("GetUser(nobody) = %v, want NotFoundError", err)
		}

		// SetPassword: the new password verifies, the old does not, sessions end.
		createSession(t, f, u.ID, "session-1")
		if _, err := f.svc.SetPassword(ctx, "alice", "a brand new password"); err != nil {
			t.Fatal(err)
		}
		got, _ := f.svc.GetUser(ctx, u.ID)
		if ok, _, _ := f.passwords.Verify(ctx, got.PasswordHash, "a brand new password"); !ok {
			t.Fatal("the new password does not verify")
		}
		if ok, _, _ := f.passwords.Verify(ctx, got.PasswordHash, goodPassword); ok {
			t.Fatal("the old password still verifies")
		}
		assertNoSession(t, f, "session-1")
		var verr *manage.ValidationError
		if _, err := f.svc.SetPassword(ctx, "alice", "short"); !errors.As(err, &verr) {
			t.Fatalf("SetPassword(short) = %v, want ValidationError", err)
		}

		// Disable: sessions end, tokens are revoked, consents forgotten.
		c, _, err := f.svc.CreateClient(ctx, manage.ClientSpec{Name: "App", RedirectURIs: []string{"https://app.example.com/cb"}})
		if err != nil {
			t.Fatal(err)
		}
		createSession(t, f, u.ID, "session-2")
		storeAccessToken(t, f, c, u.ID, "token-of-alice")
		storeAccessToken(t, f, c, "someone-else", "token-of-bob")
		now := time.Now().UTC()
		if err := f.store.SaveConsent(ctx, &storage.Consent{UserID: u.ID, ClientID: c.ID, Scopes: []string{"openid"}, GrantedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if got, err := f.svc.DisableUser(ctx, u.ID); err != nil || !got.Disabled {
			t.Fatalf("DisableUser = %v, %v", got, err)
		}
		assertNoSession(t, f, "session-2")
		if _, err := f.store.GetAccessTokenSession(ctx, "token-of-alice", openid.NewDefaultSession()); err == nil {
			t.Fatal("the disabled user's token is still active")
		}
		if _, err := f.store.GetAccessTokenSession(ctx, "token-of-bob", openid.NewDefaultSession()); err != nil {
			t.Fatalf("another user's token was revoked: %v", err)
		}
		if _, err := f.store.FindConsent(ctx, u.ID, c.ID); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("FindConsent after disable = %v, want ErrNotFound", err)
		}
		if got, _ := f.svc.GetUser(ctx, u.ID); !got.Disabled {
			t.Fatal("the user is not stored as disabled")
		}

		if got, err := f.svc.EnableUser(ctx, "alice"); err != nil || got.Disabled {
			t.Fatalf("EnableUser = %v, %v", got, err)
		}
		if got, _ := f.svc.GetUser(ctx, u.ID); got.Disabled {
			t.Fatal("the user is still stored as disabled")
		}

		// Delete: the user, their sessions and tokens are gone.
		createSession(t, f, u.ID, "session-3")
		storeAccessToken(t, f, c, u.ID, "token-of-alice-2")
		if _, err := f.svc.DeleteUser(ctx, "alice"); err != nil {
			t.Fatal(err)
		}
		assertNoSession(t, f, "session-3")
		if _, err := f.store.GetAccessTokenSession(ctx, "token-of-alice-2", openid.NewDefaultSession()); err == nil {
			t.Fatal("the deleted user's token is still active")
		}
		if _, err := f.svc.GetUser(ctx, u.ID); !errors.As(err, &nf) {
			t.Fatalf("GetUser after delete = %v, want NotFoundError", err)
		}
		for name, op := range map[string]func() error{
			"DisableUser": func() error { _, err := f.svc.DisableUser(ctx, u.ID); return err },
			"EnableUser":  func() error { _, err := f.svc.EnableUser(ctx, u.ID); return err },
			"DeleteUser":  func() error { _, err := f.svc.DeleteUser(ctx, u.ID); return err },
			"SetPassword": func() error { _, err := f.svc.SetPassword(ctx, u.ID, goodPassword); return err },
		} {
			if err := op(); !errors.As(err, &nf) {
				t.Errorf("%s of a deleted user = %v, want NotFoundError", name, err)
			}
		}
	})
}

func createSession(t *testing.T, f fixture, userID, id string) {
	t.Helper()
	now := time.Now().UTC()
	err := f.store.CreateBrowserSession(context.Background(), &storage.BrowserSession{
		ID: id, SID: id + "-sid", UserID: userID, AuthTime: now, AMR: []string{"pwd"},
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour),
	})
	if err != nil {
		t.Fatalf("create browser session: %v", err)
	}
}

func assertNoSession(t *testing.T, f fixture, id string) {
	t.Helper()
	if _, err := f.store.FindBrowserSession(context.Background(), id); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("browser session %s: %v, want ErrNotFound", id, err)
	}
}
