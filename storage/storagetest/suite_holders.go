package storagetest

import (
	"slices"
	"testing"

	"github.com/ory/fosite/handler/openid"

	"github.com/gatehouse/gatehouse/storage"
)

// A client and a user are read with the roles they hold, and a stored
// request with its client and the client's roles: the token endpoint,
// introspection and authorization decide on them without another query.
func testRolesReadWithHolders(t *testing.T, s storage.Store) {
	ctx := ctxT(t)
	c := seedClient(t, s, "svc")
	seedClient(t, s, "bare")
	seedUser(t, s, "u-1", "frida")
	// Granted out of order: holders read their roles by name, bytewise.
	for _, r := range []*storage.Role{
		{Name: "writer", Scopes: []string{"docs:write", "docs:read"}, RequireMFA: true},
		{Name: "reader", Scopes: []string{"docs:read"}},
		{Name: "Auditor", Scopes: []string{"docs:audit"}},
	} {
		must(t, "create role "+r.Name, s.CreateRole(ctx, r))
		must(t, "grant client "+r.Name, s.GrantClientRole(ctx, "svc", r.Name))
		must(t, "grant user "+r.Name, s.GrantUserRole(ctx, "u-1", r.Name))
	}
	check := func(what string, roles []*storage.Role) {
		t.Helper()
		var names []string
		for _, r := range roles {
			names = append(names, r.Name)
		}
		if !slices.Equal(names, []string{"Auditor", "reader", "writer"}) {
			t.Fatalf("%s: roles %v, want [Auditor reader writer]", what, names)
		}
		if w := roles[2]; !w.RequireMFA || !slices.Equal(w.Scopes, []string{"docs:write", "docs:read"}) || w.CreatedAt.IsZero() {
			t.Fatalf("%s: writer read as %+v", what, w)
		}
	}

	got, err := s.FindClient(ctx, "svc")
	must(t, "find client", err)
	check("client", got.Roles)
	if got.Name != c.Name || !slices.Equal(got.RedirectURIs, c.RedirectURIs) {
		t.Fatalf("client read with its roles: %+v", got)
	}
	u, err := s.FindUser(ctx, "u-1")
	must(t, "find user", err)
	check("user", u.Roles)
	if u.Username != "frida" {
		t.Fatalf("user read with her roles: %+v", u)
	}
	bare, err := s.FindClient(ctx, "bare")
	must(t, "find client without roles", err)
	if len(bare.Roles) != 0 {
		t.Fatalf("client without roles read with %d", len(bare.Roles))
	}

	must(t, "access token", s.CreateAccessTokenSession(ctx, "at-svc", newRequest(c, "req-svc", "u-1")))
	req, err := s.GetAccessTokenSession(ctx, "at-svc", &openid.DefaultSession{})
	must(t, "get access token", err)
	tokenClient, ok := req.GetClient().(*storage.Client)
	if !ok || tokenClient.ID != "svc" {
		t.Fatalf("token's client: %#v", req.GetClient())
	}
	check("token's client", tokenClient.Roles)
	pctx := s.Prefetch(ctx, storage.Prefetch{ClientID: "svc", Rows: []storage.PrefetchRow{{Kind: storage.AccessTokenRecord, Key: "at-svc"}}})
	got, err = s.FindClient(pctx, "svc")
	must(t, "find prefetched client", err)
	check("prefetched client", got.Roles)
	req, err = s.GetAccessTokenSession(pctx, "at-svc", &openid.DefaultSession{})
	must(t, "get prefetched access token", err)
	check("prefetched token's client", req.GetClient().(*storage.Client).Roles)
	u, err = s.FindUser(s.Prefetch(ctx, storage.Prefetch{SubjectsOf: []storage.PrefetchRow{{Kind: storage.AccessTokenRecord, Key: "at-svc"}}}), "u-1")
	must(t, "find prefetched user", err)
	check("prefetched user", u.Roles)

	must(t, "revoke role", s.RevokeClientRole(ctx, "svc", "reader"))
	got, err = s.FindClient(ctx, "svc")
	must(t, "find client after revoke", err)
	if len(got.Roles) != 2 || got.Roles[0].Name != "Auditor" || got.Roles[1].Name != "writer" {
		t.Fatalf("after revoking reader: %v", got.Roles)
	}
}

// A token row whose client is gone is never read, even where the schema
// has no foreign key to stop it (PostgreSQL, for the speed of token
// inserts): a token issued while its client was being deleted stays unusable.
func testOrphanTokenUnreadable(t *testing.T, s storage.Store) {
	ctx := ctxT(t)
	c := seedClient(t, s, "gone")
	seedUser(t, s, "u-1", "gus")
	must(t, "delete client", s.DeleteClient(ctx, "gone"))
	r := newRequest(c, "req-late", "u-1")
	if err := s.CreateAccessTokenSession(ctx, "at-late", r); err != nil {
		return // a foreign key refused the row (SQLite): nothing to read
	}
	_, err := s.GetAccessTokenSession(ctx, "at-late", &openid.DefaultSession{})
	mustNotFound(t, "access token of a deleted client", err)
	if err := s.CreateRefreshTokenSession(ctx, "rt-late", "at-late", r); err != nil {
		t.Fatalf("refresh token row inserted where the access token row was: %v", err)
	}
	_, err = s.GetRefreshTokenSession(ctx, "rt-late", &openid.DefaultSession{})
	mustNotFound(t, "refresh token of a deleted client", err)
}
