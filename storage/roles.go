package storage

import (
	"context"
	"time"
)

// Role is a named set of scopes. A user (or, for client credentials, a
// client) holding a role may be granted its scopes.
type Role struct {
	Name        string
	Description string
	Scopes      []string
	// RequireMFA makes the second factor mandatory for every user holding
	// the role.
	RequireMFA bool
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Roles stores roles and who holds them.
type Roles interface {
	// CreateRole fails with ErrAlreadyExists when the name is taken.
	CreateRole(ctx context.Context, r *Role) error
	FindRole(ctx context.Context, name string) (*Role, error)
	// ListRoles returns every role, by name.
	ListRoles(ctx context.Context) ([]*Role, error)
	UpdateRole(ctx context.Context, name string, fn func(*Role) error) error
	// DeleteRole deletes the role and every assignment of it.
	DeleteRole(ctx context.Context, name string) error
	// GrantUserRole is idempotent; ErrNotFound when the user or role does not exist.
	GrantUserRole(ctx context.Context, userID, role string) error
	// RevokeUserRole is idempotent.
	RevokeUserRole(ctx context.Context, userID, role string) error
	// UserRoles returns the roles a user holds, by name.
	UserRoles(ctx context.Context, userID string) ([]*Role, error)
	// RoleUserIDs returns the ids of the users holding a role.
	RoleUserIDs(ctx context.Context, role string) ([]string, error)
	GrantClientRole(ctx context.Context, clientID, role string) error
	RevokeClientRole(ctx context.Context, clientID, role string) error
	ClientRoles(ctx context.Context, clientID string) ([]*Role, error)
}
