package manage_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/server/manage"
	"github.com/gatehouse/gatehouse/storage"
)

func ptr[T any](v T) *T { return &v }

func TestUpdateClient(t *testing.T) {
	backends(t, func(t *testing.T, f fixture) {
		ctx := context.Background()
		c, _, err := f.svc.CreateClient(ctx, manage.ClientSpec{Name: "Web app", RedirectURIs: []string{"https://app.example.com/cb"}})
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name  string
			u     manage.ClientUpdate
			field string
		}{
			{"empty name", manage.ClientUpdate{Name: ptr("  ")}, "client_name"},
			{"http redirect", manage.ClientUpdate{RedirectURIs: &[]string{"http://app.example.com/cb"}}, "redirect_uris"},
			{"no redirect for the code grant", manage.ClientUpdate{RedirectURIs: &[]string{}}, "redirect_uris"},
			{"unknown grant", manage.ClientUpdate{GrantTypes: &[]string{"password"}}, "grant_types"},
			{"bad format", manage.ClientUpdate{AccessTokenFormat: ptr("paseto")}, "access_token_format"},
			{"bad back-channel URI", manage.ClientUpdate{BackchannelLogoutURI: ptr("ftp://x")}, "backchannel_logout_uri"},
		} {
			_, err := f.svc.UpdateClient(ctx, c.ID, tc.u)
			var ve *manage.ValidationError
			if !errors.As(err, &ve) || ve.Field != tc.field {
				t.Errorf("%s: %v, want a validation error on %s", tc.name, err, tc.field)
			}
		}
		if got, _ := f.svc.GetClient(ctx, c.ID); got.Name != "Web app" {
			t.Fatalf("a refused update changed the client: %+v", got)
		}

		u, err := f.svc.UpdateClient(ctx, c.ID, manage.ClientUpdate{
			Name: ptr("Web app 2"), Scopes: &[]string{"openid reports:read"}, RequireMFA: ptr(true),
			BackchannelLogoutURI: ptr("https://app.example.com/bcl"), AccessTokenFormat: ptr("jwt"),
		})
		if err != nil {
			t.Fatal(err)
		}
		got, _ := f.svc.GetClient(ctx, c.ID)
		for _, g := range []*storage.Client{u, got} {
			if g.Name != "Web app 2" || len(g.Scopes) != 2 || !g.RequireMFA || g.BackchannelLogoutURI != "https://app.example.com/bcl" ||
				g.AccessTokenFormat != "jwt" || g.RedirectURIs[0] != "https://app.example.com/cb" || !equalDigest(g.SecretDigest, c.SecretDigest) {
				t.Fatalf("after update: %+v", g)
			}
		}
		var nf *manage.NotFoundError
		if _, err := f.svc.UpdateClient(ctx, "nope", manage.ClientUpdate{}); !errors.As(err, &nf) {
			t.Fatalf("unknown client: %v", err)
		}
	})
}

func equalDigest(a, b []byte) bool { return string(a) == string(b) }

func TestRotateClientSecret(t *testing.T) {
	backends(t, func(t *testing.T, f fixture) {
		ctx := context.Background()
		c, first, err := f.svc.CreateClient(ctx, manage.ClientSpec{Name: "Job", GrantTypes: []string{"client_credentials"}})
		if err != nil {
			t.Fatal(err)
		}
		accepts := func(c *storage.Client, secret string) bool {
			if f.hasher.Compare(ctx, c.SecretDigest, []byte(secret)) == nil {
				return true
			}
			for _, h := range c.GetRotatedHashes() {
				if f.hasher.Compare(ctx, h, []byte(secret)) == nil {
					return true
				}
			}
			return false
		}

		_, second, err := f.svc.RotateClientSecret(ctx, c.ID, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := f.svc.GetClient(ctx, c.ID)
		if !accepts(got, first) || !accepts(got, second) || second == first {
			t.Fatal("during the grace both secrets must be accepted")
		}
		if d := time.Until(*got.RotatedSecretExpiresAt); d < 59*time.Minute || d > time.Hour {
			t.Fatalf("grace ends in %s", d)
		}

		_, third, err := f.svc.RotateClientSecret(ctx, c.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		got, _ = f.svc.GetClient(ctx, c.ID)
		if accepts(got, first) || accepts(got, second) || !accepts(got, third) || got.RotatedSecretExpiresAt != nil {
			t.Fatal("without grace only the new secret may be accepted")
		}

		var ve *manage.ValidationError
		for _, grace := range []time.Duration{-time.Second, manage.MaxSecretGrace + time.Second} {
			if _, _, err := f.svc.RotateClientSecret(ctx, c.ID, grace); !errors.As(err, &ve) || ve.Field != "grace" {
				t.Errorf("grace %s: %v", grace, err)
			}
		}
		public, _, err := f.svc.CreateClient(ctx, manage.ClientSpec{Name: "SPA", Public: true, RedirectURIs: []string{"http://127.0.0.1/cb"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.svc.RotateClientSecret(ctx, public.ID, time.Hour); !errors.As(err, &ve) {
			t.Fatalf("public client: %v", err)
		}
		var nf *manage.NotFoundError
		if _, _, err := f.svc.RotateClientSecret(ctx, "nope", 0); !errors.As(err, &nf) {
			t.Fatalf("unknown client: %v", err)
		}
	})
}
