package manage

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/gatehouse/gatehouse/server/policy"
	"github.com/gatehouse/gatehouse/storage"
)

// RoleSpec is a new role.
type RoleSpec struct {
	Name        string
	Description string
	// Scopes may hold several space-separated scopes per entry.
	Scopes     []string
	RequireMFA bool
}

var roleName = regexp.MustCompile(`^[a-z0-9][a-z0-9._:-]{0,63}$`)

// roleScopes validates the scopes a role carries: at least one, none of the
// open scopes (every user has those already).
func roleScopes(in []string) ([]string, error) {
	var out []string
	for _, entry := range in {
		for _, sc := range strings.Fields(entry) {
			if !validScopeToken(sc) {
				return nil, invalid("scope", "%q is not a valid scope", sc)
			}
			if policy.IsOpen(sc) {
				return nil, invalid("scope", "%q is open to every user; a role does not need to carry it", sc)
			}
			if !slices.Contains(out, sc) {
				out = append(out, sc)
			}
		}
	}
	if len(out) == 0 {
		return nil, invalid("scope", "give at least one scope")
	}
	return out, nil
}

// CreateRole validates spec and stores the role.
func (s *Service) CreateRole(ctx context.Context, spec RoleSpec) (*storage.Role, error) {
	if !roleName.MatchString(spec.Name) {
		return nil, invalid("name", "a role name is 1 to 64 characters: lower-case letters, digits and . _ : - (starting with a letter or digit)")
	}
	if err := checkText("description", spec.Description, 200); err != nil {
		return nil, err
	}
	sc, err := roleScopes(spec.Scopes)
	if err != nil {
		return nil, err
	}
	now := s.now()
	r := &storage.Role{Name: spec.Name, Description: spec.Description, Scopes: sc, RequireMFA: spec.RequireMFA, CreatedAt: now, UpdatedAt: now}
	if err := s.store.CreateRole(ctx, r); err != nil {
		if errors.Is(err, storage.ErrAlreadyExists) {
			return nil, &ValidationError{Field: "name", Message: fmt.Sprintf("a role named %q already exists", spec.Name), Err: err}
		}
		return nil, fmt.Errorf("create role %q: %w", spec.Name, err)
	}
	return r, nil
}

// ListRoles returns every role.
func (s *Service) ListRoles(ctx context.Context) ([]*storage.Role, error) {
	roles, err := s.store.ListRoles(ctx)
	if err != nil {
		return nil, fmt.Errorf("list roles: %w", err)
	}
	return roles, nil
}

// GetRole returns one role.
func (s *Service) GetRole(ctx context.Context, name string) (*storage.Role, error) {
	r, err := s.store.FindRole(ctx, name)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, &NotFoundError{Kind: "role", ID: name}
	}
	if err != nil {
		return nil, fmt.Errorf("load role %q: %w", name, err)
	}
	return r, nil
}

// DeleteRole deletes a role; its holders lose its scopes, also from their
// remembered consents.
func (s *Service) DeleteRole(ctx context.Context, name string) error {
	holders, err := s.roleHolders(ctx, name)
	if err != nil {
		return err
	}
	if err := s.store.DeleteRole(ctx, name); err != nil {
		return fmt.Errorf("delete role %q: %w", name, err)
	}
	return s.pruneConsents(ctx, holders...)
}

// AddRoleScopes adds scopes to a role.
func (s *Service) AddRoleScopes(ctx context.Context, name string, scopes []string) (*storage.Role, error) {
	add, err := roleScopes(scopes)
	if err != nil {
		return nil, err
	}
	return s.updateRole(ctx, name, func(r *storage.Role) {
		for _, sc := range add {
			if !slices.Contains(r.Scopes, sc) {
				r.Scopes = append(r.Scopes, sc)
			}
		}
	})
}

// RemoveRoleScopes removes scopes from a role; its holders lose them, also
// from their remembered consents.
func (s *Service) RemoveRoleScopes(ctx context.Context, name string, scopes []string) (*storage.Role, error) {
	remove, err := roleScopes(scopes)
	if err != nil {
		return nil, err
	}
	r, err := s.updateRole(ctx, name, func(r *storage.Role) {
		r.Scopes = slices.DeleteFunc(r.Scopes, func(sc string) bool { return slices.Contains(remove, sc) })
	})
	if err != nil {
		return nil, err
	}
	holders, err := s.roleHolders(ctx, name)
	if err != nil {
		return nil, err
	}
	return r, s.pruneConsents(ctx, holders...)
}

func (s *Service) updateRole(ctx context.Context, name string, fn func(*storage.Role)) (*storage.Role, error) {
	var out *storage.Role
	err := s.store.UpdateRole(ctx, name, func(r *storage.Role) error {
		fn(r)
		out = r
		return nil
	})
	if errors.Is(err, storage.ErrNotFound) {
		return nil, &NotFoundError{Kind: "role", ID: name}
	}
	if err != nil {
		return nil, fmt.Errorf("update role %q: %w", name, err)
	}
	return out, nil
}

func (s *Service) roleHolders(ctx context.Context, name string) ([]string, error) {
	ids, err := s.store.RoleUserIDs(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("users of role %q: %w", name, err)
	}
	return ids, nil
}

// GrantUserRole gives a user a role.
func (s *Service) GrantUserRole(ctx context.Context, idOrUsername, role string) (*storage.User, error) {
	u, err := s.GetUser(ctx, idOrUsername)
	if err != nil {
		return nil, err
	}
	if _, err := s.GetRole(ctx, role); err != nil {
		return nil, err
	}
	if err := s.store.GrantUserRole(ctx, u.ID, role); err != nil {
		return nil, fmt.Errorf("grant role %q to %q: %w", role, u.Username, err)
	}
	return u, nil
}

// RevokeUserRole takes a role from a user. The user's remembered consents
// lose the scopes it gave; their next refresh narrows their tokens.
func (s *Service) RevokeUserRole(ctx context.Context, idOrUsername, role string) (*storage.User, error) {
	u, err := s.GetUser(ctx, idOrUsername)
	if err != nil {
		return nil, err
	}
	if err := s.store.RevokeUserRole(ctx, u.ID, role); err != nil {
		return nil, fmt.Errorf("revoke role %q from %q: %w", role, u.Username, err)
	}
	return u, s.pruneConsents(ctx, u.ID)
}

// UserRoles returns the roles a user holds.
func (s *Service) UserRoles(ctx context.Context, userID string) ([]*storage.Role, error) {
	roles, err := s.store.UserRoles(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("roles of user %q: %w", userID, err)
	}
	return roles, nil
}

// GrantClientRole gives a client a role (for the client credentials grant).
func (s *Service) GrantClientRole(ctx context.Context, clientID, role string) error {
	if _, err := s.GetClient(ctx, clientID); err != nil {
		return err
	}
	if _, err := s.GetRole(ctx, role); err != nil {
		return err
	}
	if err := s.store.GrantClientRole(ctx, clientID, role); err != nil {
		return fmt.Errorf("grant role %q to client %q: %w", role, clientID, err)
	}
	return nil
}

// RevokeClientRole takes a role from a client.
func (s *Service) RevokeClientRole(ctx context.Context, clientID, role string) error {
	if _, err := s.GetClient(ctx, clientID); err != nil {
		return err
	}
	if err := s.store.RevokeClientRole(ctx, clientID, role); err != nil {
		return fmt.Errorf("revoke role %q from client %q: %w", role, clientID, err)
	}
	return nil
}

// ClientRoles returns the roles a client holds.
func (s *Service) ClientRoles(ctx context.Context, clientID string) ([]*storage.Role, error) {
	roles, err := s.store.ClientRoles(ctx, clientID)
	if err != nil {
		return nil, fmt.Errorf("roles of client %q: %w", clientID, err)
	}
	return roles, nil
}

// pruneConsents removes from the users' remembered consents every scope
// their roles no longer allow, so that regaining a role asks again.
func (s *Service) pruneConsents(ctx context.Context, userIDs ...string) error {
	for _, id := range userIDs {
		roles, err := s.store.UserRoles(ctx, id)
		if err != nil {
			return fmt.Errorf("roles of user %q: %w", id, err)
		}
		consents, err := s.store.ListUserConsents(ctx, id)
		if err != nil {
			return fmt.Errorf("consents of user %q: %w", id, err)
		}
		for _, c := range consents {
			kept, _ := policy.UserScopes(c.Scopes, roles)
			if len(kept) == len(c.Scopes) {
				continue
			}
			c.Scopes = kept
			if err := s.store.SaveConsent(ctx, c); err != nil {
				return fmt.Errorf("narrow consent of user %q for client %q: %w", id, c.ClientID, err)
			}
		}
	}
	return nil
}
