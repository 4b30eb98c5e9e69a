package manage_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/server/manage"
	"github.com/gatehouse/gatehouse/storage"
)

func TestRoleValidation(t *testing.T) {
	backends(t, func(t *testing.T, f fixture) {
		ctx := context.Background()
		for _, tc := range []struct {
			spec  manage.RoleSpec
			field string
		}{
			{manage.RoleSpec{Name: "", Scopes: []string{"a"}}, "name"},
			{manage.RoleSpec{Name: "Editor", Scopes: []string{"a"}}, "name"},
			{manage.RoleSpec{Name: "has space", Scopes: []string{"a"}}, "name"},
			{manage.RoleSpec{Name: "ok"}, "scope"},
			{manage.RoleSpec{Name: "ok", Scopes: []string{"email"}}, "scope"},
			{manage.RoleSpec{Name: "ok", Scopes: []string{"bad\"scope"}}, "scope"},
		} {
			_, err := f.svc.CreateRole(ctx, tc.spec)
			var ve *manage.ValidationError
			if !errors.As(err, &ve) || ve.Field != tc.field {
				t.Errorf("CreateRole(%+v) = %v, want a validation error on %s", tc.spec, err, tc.field)
			}
		}
		if _, err := f.svc.CreateRole(ctx, manage.RoleSpec{Name: "editor", Scopes: []string{"articles:write"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.CreateRole(ctx, manage.RoleSpec{Name: "editor", Scopes: []string{"x"}}); !errors.Is(err, storage.ErrAlreadyExists) {
			t.Errorf("duplicate role: %v", err)
		}
		if _, err := f.svc.GrantUserRole(ctx, "nobody", "editor"); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("grant to unknown user: %v", err)
		}
	})
}

// Losing a scope (role revoked, scope removed from a role, role deleted)
// also removes it from remembered consent.
func TestLosingARoleNarrowsRememberedConsent(t *testing.T) {
	backends(t, func(t *testing.T, f fixture) {
		ctx := context.Background()
		u, err := f.svc.CreateUser(ctx, manage.UserSpec{Username: "ivy", Email: "ivy@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		c, _, err := f.svc.CreateClient(ctx, manage.ClientSpec{Name: "CMS", RedirectURIs: []string{"https://cms.example/cb"}, Scopes: []string{"openid a:write b:write"}})
		if err != nil {
			t.Fatal(err)
		}
		for _, spec := range []manage.RoleSpec{{Name: "a", Scopes: []string{"a:write"}}, {Name: "b", Scopes: []string{"b:write"}}} {
			if _, err := f.svc.CreateRole(ctx, spec); err != nil {
				t.Fatal(err)
			}
			if _, err := f.svc.GrantUserRole(ctx, "ivy", spec.Name); err != nil {
				t.Fatal(err)
			}
		}
		now := time.Now()
		consentScopes := func() []string {
			t.Helper()
			got, err := f.store.FindConsent(ctx, u.ID, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			return got.Scopes
		}
		save := func() {
			t.Helper()
			err := f.store.SaveConsent(ctx, &storage.Consent{UserID: u.ID, ClientID: c.ID, Scopes: []string{"openid", "a:write", "b:write"}, GrantedAt: now, ExpiresAt: now.Add(time.Hour)})
			if err != nil {
				t.Fatal(err)
			}
		}
		save()
		if _, err := f.svc.RevokeUserRole(ctx, "ivy", "a"); err != nil {
			t.Fatal(err)
		}
		if got := consentScopes(); !slices.Equal(got, []string{"openid", "b:write"}) {
			t.Errorf("after revoking a: %v", got)
		}
		if _, err := f.svc.RemoveRoleScopes(ctx, "b", []string{"b:write"}); err != nil {
			t.Fatal(err)
		}
		if got := consentScopes(); !slices.Equal(got, []string{"openid"}) {
			t.Errorf("after removing b:write from b: %v", got)
		}
		if _, err := f.svc.GrantUserRole(ctx, "ivy", "a"); err != nil {
			t.Fatal(err)
		}
		save()
		if err := f.svc.DeleteRole(ctx, "a"); err != nil {
			t.Fatal(err)
		}
		if got := consentScopes(); !slices.Equal(got, []string{"openid"}) {
			t.Errorf("after deleting a: %v", got)
		}
	})
}
