package policy

import (
	"slices"

	"github.com/gatehouse/gatehouse/storage"
)

// OpenScopes are granted to every user who asks through a client that
// registered them; no role is needed.
var OpenScopes = []string{"openid", "profile", "email", "offline_access"}

// UserOnlyScopes make sense only with a user: never granted to the client
// credentials grant.
var UserOnlyScopes = OpenScopes

// IsOpen reports whether scope needs no role.
func IsOpen(scope string) bool { return slices.Contains(OpenScopes, scope) }

// carries reports whether any of roles carries scope.
func carries(roles []*storage.Role, scope string) bool {
	for _, r := range roles {
		if slices.Contains(r.Scopes, scope) {
			return true
		}
	}
	return false
}

// UserScopes splits a user's requested scopes (already checked against the
// client's registration) into those granted — open scopes and scopes one of
// the user's roles carries — and those withheld.
func UserScopes(requested []string, roles []*storage.Role) (granted, withheld []string) {
	for _, s := range requested {
		if IsOpen(s) || carries(roles, s) {
			granted = append(granted, s)
		} else {
			withheld = append(withheld, s)
		}
	}
	return granted, withheld
}

// ClientScopes is UserScopes for the client credentials grant: the client's
// own roles decide, and user-only scopes are always withheld.
func ClientScopes(requested []string, roles []*storage.Role) (granted, withheld []string) {
	for _, s := range requested {
		if !slices.Contains(UserOnlyScopes, s) && carries(roles, s) {
			granted = append(granted, s)
		} else {
			withheld = append(withheld, s)
		}
	}
	return granted, withheld
}

// RoleNames returns the names of the roles behind the granted scopes: a
// client learns the roles that explain what it was granted, not every role
// the user holds (a calendar app need not know its user is an HR admin).
func RoleNames(roles []*storage.Role, granted []string) []string {
	names := []string{}
	for _, r := range roles {
		for _, s := range r.Scopes {
			if slices.Contains(granted, s) {
				names = append(names, r.Name)
				break
			}
		}
	}
	return names
}

// AnyRequiresMFA reports whether one of roles makes the second factor mandatory.
func AnyRequiresMFA(roles []*storage.Role) bool {
	return slices.ContainsFunc(roles, func(r *storage.Role) bool { return r.RequireMFA })
}
