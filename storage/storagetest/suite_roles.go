package storagetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/storage"
)

func roleNames(roles []*storage.Role) []string {
	out := make([]string, len(roles))
	for i, r := range roles {
		out[i] = r.Name
	}
	return out
}

func testRoles(t *testing.T, s storage.Store) {
	ctx := ctxT(t)
	editor := &storage.Role{Name: "editor", Description: "Writes articles", Scopes: []string{"articles:write", "articles:read"}}
	must(t, "create editor", s.CreateRole(ctx, editor))
	must(t, "create admin", s.CreateRole(ctx, &storage.Role{Name: "admin", Scopes: []string{"gatehouse:admin"}, RequireMFA: true}))
	if err := s.CreateRole(ctx, &storage.Role{Name: "editor"}); !errors.Is(err, storage.ErrAlreadyExists) {
		t.Fatalf("duplicate role: %v", err)
	}
	got, err := s.FindRole(ctx, "editor")
	must(t, "find role", err)
	if got.Description != "Writes articles" || !slices.Equal(got.Scopes, editor.Scopes) || got.RequireMFA || got.CreatedAt.Location() != time.UTC {
		t.Errorf("role round trip: %+v", got)
	}
	_, err = s.FindRole(ctx, "nope")
	mustNotFound(t, "find unknown role", err)

	all, err := s.ListRoles(ctx)
	must(t, "list roles", err)
	if !slices.Equal(roleNames(all), []string{"admin", "editor"}) {
		t.Errorf("list = %v", roleNames(all))
	}

	must(t, "update role", s.UpdateRole(ctx, "editor", func(r *storage.Role) error {
		r.Scopes = append(r.Scopes, "media:upload")
		r.RequireMFA = true
		return nil
	}))
	got, _ = s.FindRole(ctx, "editor")
	if !slices.Contains(got.Scopes, "media:upload") || !got.RequireMFA {
		t.Errorf("update not saved: %+v", got)
	}
	abort := errors.New("abort")
	if err := s.UpdateRole(ctx, "editor", func(r *storage.Role) error { r.Scopes = nil; return abort }); !errors.Is(err, abort) {
		t.Fatalf("aborted update: %v", err)
	}
	got, _ = s.FindRole(ctx, "editor")
	if len(got.Scopes) != 3 {
		t.Errorf("aborted update saved: %+v", got)
	}
	mustNotFound(t, "update unknown role", s.UpdateRole(ctx, "nope", func(*storage.Role) error { return nil }))
}

func testRoleAssignments(t *testing.T, s storage.Store) {
	ctx := ctxT(t)
	seedUser(t, s, "u1", "ann")
	seedUser(t, s, "u2", "ben")
	seedClient(t, s, "c1")
	must(t, "create editor", s.CreateRole(ctx, &storage.Role{Name: "editor", Scopes: []string{"articles:write"}}))
	must(t, "create viewer", s.CreateRole(ctx, &storage.Role{Name: "viewer", Scopes: []string{"articles:read"}}))

	must(t, "grant", s.GrantUserRole(ctx, "u1", "editor"))
	must(t, "grant twice", s.GrantUserRole(ctx, "u1", "editor"))
	must(t, "grant viewer", s.GrantUserRole(ctx, "u1", "viewer"))
	must(t, "grant u2", s.GrantUserRole(ctx, "u2", "viewer"))
	mustNotFound(t, "grant unknown role", s.GrantUserRole(ctx, "u1", "nope"))
	mustNotFound(t, "grant to unknown user", s.GrantUserRole(ctx, "nobody", "editor"))

	roles, err := s.UserRoles(ctx, "u1")
	must(t, "user roles", err)
	if !slices.Equal(roleNames(roles), []string{"editor", "viewer"}) || roles[0].Scopes[0] != "articles:write" {
		t.Errorf("roles of u1 = %v", roleNames(roles))
	}
	ids, err := s.RoleUserIDs(ctx, "viewer")
	must(t, "role users", err)
	if !slices.Equal(ids, []string{"u1", "u2"}) {
		t.Errorf("users of viewer = %v", ids)
	}

	must(t, "revoke", s.RevokeUserRole(ctx, "u1", "viewer"))
	must(t, "revoke twice", s.RevokeUserRole(ctx, "u1", "viewer"))
	roles, _ = s.UserRoles(ctx, "u1")
	if !slices.Equal(roleNames(roles), []string{"editor"}) {
		t.Errorf("after revoke: %v", roleNames(roles))
	}

	must(t, "grant client", s.GrantClientRole(ctx, "c1", "viewer"))
	mustNotFound(t, "grant to unknown client", s.GrantClientRole(ctx, "nope", "viewer"))
	croles, err := s.ClientRoles(ctx, "c1")
	must(t, "client roles", err)
	if !slices.Equal(roleNames(croles), []string{"viewer"}) {
		t.Errorf("client roles = %v", roleNames(croles))
	}

	// Deleting a role removes its assignments; deleting a user removes theirs.
	must(t, "delete viewer", s.DeleteRole(ctx, "viewer"))
	mustNotFound(t, "delete viewer again", s.DeleteRole(ctx, "viewer"))
	if croles, _ := s.ClientRoles(ctx, "c1"); len(croles) != 0 {
		t.Errorf("client still holds a deleted role: %v", roleNames(croles))
	}
	if roles, _ := s.UserRoles(ctx, "u2"); len(roles) != 0 {
		t.Errorf("user still holds a deleted role: %v", roleNames(roles))
	}
	must(t, "delete user", s.DeleteUser(ctx, "u1"))
	if ids, _ := s.RoleUserIDs(ctx, "editor"); len(ids) != 0 {
		t.Errorf("deleted user still holds editor: %v", ids)
	}
	must(t, "revoke client role", s.RevokeClientRole(ctx, "c1", "editor"))
}

func testListUserConsents(t *testing.T, s storage.Store) {
	ctx := ctxT(t)
	seedUser(t, s, "u1", "ann")
	seedClient(t, s, "a")
	seedClient(t, s, "b")
	now := time.Now().UTC()
	must(t, "consent a", s.SaveConsent(ctx, &storage.Consent{UserID: "u1", ClientID: "a", Scopes: []string{"openid"}, GrantedAt: now, ExpiresAt: now.Add(time.Hour)}))
	must(t, "consent b (expired)", s.SaveConsent(ctx, &storage.Consent{UserID: "u1", ClientID: "b", Scopes: []string{"openid"}, GrantedAt: now, ExpiresAt: now.Add(-time.Second)}))
	got, err := s.ListUserConsents(ctx, "u1")
	must(t, "list consents", err)
	if len(got) != 1 || got[0].ClientID != "a" || !slices.Equal(got[0].Scopes, []string{"openid"}) {
		t.Errorf("consents = %+v", got)
	}
}
