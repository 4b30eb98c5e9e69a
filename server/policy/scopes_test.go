package policy

import (
	"slices"
	"testing"

	"github.com/gatehouse/gatehouse/storage"
)

func TestScopeGrants(t *testing.T) {
	editor := &storage.Role{Name: "editor", Scopes: []string{"articles:write"}}
	reader := &storage.Role{Name: "reader", Scopes: []string{"articles:read", "openid"}}
	ops := &storage.Role{Name: "ops", Scopes: []string{"gatehouse:introspect"}, RequireMFA: true}
	for _, tc := range []struct {
		name                  string
		requested             []string
		roles                 []*storage.Role
		user, client, userOut []string
		roleNames             []string
	}{
		{"open scopes for everyone", []string{"openid", "profile", "email", "offline_access"}, nil,
			[]string{"openid", "profile", "email", "offline_access"}, nil, []string{}, []string{}},
		{"protected scope without role", []string{"openid", "articles:write"}, nil,
			[]string{"openid"}, nil, []string{"articles:write"}, []string{}},
		{"protected scope with role", []string{"openid", "articles:write"}, []*storage.Role{editor, reader},
			[]string{"openid", "articles:write"}, []string{"articles:write"}, []string{}, []string{"editor", "reader"}},
		{"client credentials never get user scopes", []string{"openid", "gatehouse:introspect"}, []*storage.Role{ops, reader},
			[]string{"openid", "gatehouse:introspect"}, []string{"gatehouse:introspect"}, []string{}, []string{"ops", "reader"}},
		{"nothing grantable", []string{"articles:write"}, []*storage.Role{reader},
			nil, nil, []string{"articles:write"}, []string{}},
	} {
		granted, withheld := UserScopes(tc.requested, tc.roles)
		if !slices.Equal(granted, tc.user) {
			t.Errorf("%s: user granted %v, want %v", tc.name, granted, tc.user)
		}
		if len(withheld) != len(tc.userOut) || !slices.Equal(withheld, tc.userOut) && len(withheld) > 0 {
			t.Errorf("%s: user withheld %v, want %v", tc.name, withheld, tc.userOut)
		}
		if cg, _ := ClientScopes(tc.requested, tc.roles); !slices.Equal(cg, tc.client) {
			t.Errorf("%s: client granted %v, want %v", tc.name, cg, tc.client)
		}
		if names := RoleNames(tc.roles, granted); !slices.Equal(names, tc.roleNames) {
			t.Errorf("%s: roles %v, want %v", tc.name, names, tc.roleNames)
		}
	}
	if !AnyRequiresMFA([]*storage.Role{editor, ops}) || AnyRequiresMFA([]*storage.Role{editor}) {
		t.Error("AnyRequiresMFA")
	}
}
