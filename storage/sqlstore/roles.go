package sqlstore

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm/clause"

	"github.com/gatehouse/gatehouse/storage"
)

type roleModel struct {
	Name        string     `gorm:"column:name;primaryKey"`
	Description string     `gorm:"column:description"`
	Scopes      stringList `gorm:"column:scopes"`
	RequireMFA  bool       `gorm:"column:require_mfa"`
	CreatedAt   time.Time  `gorm:"column:created_at"`
	UpdatedAt   time.Time  `gorm:"column:updated_at"`
}

func (roleModel) TableName() string { return "roles" }

type userRoleModel struct {
	UserID   string `gorm:"column:user_id;primaryKey"`
	RoleName string `gorm:"column:role_name;primaryKey"`
}

func (userRoleModel) TableName() string { return "user_roles" }

type clientRoleModel struct {
	ClientID string `gorm:"column:client_id;primaryKey"`
	RoleName string `gorm:"column:role_name;primaryKey"`
}

func (clientRoleModel) TableName() string { return "client_roles" }

func roleToModel(r *storage.Role) roleModel {
	return roleModel{
		Name: r.Name, Description: r.Description, Scopes: r.Scopes, RequireMFA: r.RequireMFA,
		CreatedAt: utc(r.CreatedAt), UpdatedAt: utc(r.UpdatedAt),
	}
}

func (m *roleModel) record() *storage.Role {
	return &storage.Role{
		Name: m.Name, Description: m.Description, Scopes: m.Scopes, RequireMFA: m.RequireMFA,
		CreatedAt: m.CreatedAt.UTC(), UpdatedAt: m.UpdatedAt.UTC(),
	}
}

func roleRecords(ms []roleModel) []*storage.Role {
	out := make([]*storage.Role, len(ms))
	for i := range ms {
		out[i] = ms[i].record()
	}
	return out
}

// CreateRole stores a new role.
func (s *Store) CreateRole(ctx context.Context, r *storage.Role) error {
	now := time.Now()
	if r.CreatedAt.IsZero() {
		r.CreatedAt = now
	}
	if r.UpdatedAt.IsZero() {
		r.UpdatedAt = r.CreatedAt
	}
	m := roleToModel(r)
	return classify(fmt.Sprintf("create role %q", r.Name), s.conn(ctx).Create(&m).Error)
}

// FindRole returns the role or ErrNotFound.
func (s *Store) FindRole(ctx context.Context, name string) (*storage.Role, error) {
	var m roleModel
	if err := s.conn(ctx).Where("name = ?", name).Take(&m).Error; err != nil {
		return nil, classify(fmt.Sprintf("find role %q", name), err)
	}
	return m.record(), nil
}

// ListRoles returns every role, by name.
func (s *Store) ListRoles(ctx context.Context) ([]*storage.Role, error) {
	var ms []roleModel
	if err := s.conn(ctx).Order("name").Find(&ms).Error; err != nil {
		return nil, classify("list roles", err)
	}
	return roleRecords(ms), nil
}

// UpdateRole loads the role, applies fn and saves it, in one transaction.
func (s *Store) UpdateRole(ctx context.Context, name string, fn func(*storage.Role) error) error {
	op := fmt.Sprintf("update role %q", name)
	return s.inTx(ctx, func(ctx context.Context) error {
		var m roleModel
		if err := s.forUpdate(s.conn(ctx)).Where("name = ?", name).Take(&m).Error; err != nil {
			return classify(op, err)
		}
		r := m.record()
		if err := fn(r); err != nil {
			return err
		}
		if r.Name != name {
			return fmt.Errorf("%s: the name cannot change", op)
		}
		r.UpdatedAt = time.Now()
		next := roleToModel(r)
		return classify(op, s.conn(ctx).Model(&roleModel{}).Where("name = ?", name).Select("*").Updates(&next).Error)
	})
}

// DeleteRole deletes the role; its assignments go with it (ON DELETE CASCADE).
func (s *Store) DeleteRole(ctx context.Context, name string) error {
	op := fmt.Sprintf("delete role %q", name)
	return s.inTx(ctx, func(ctx context.Context) error {
		db := s.conn(ctx)
		// Explicit deletes keep SQLite correct even if foreign keys were off.
		if err := db.Where("role_name = ?", name).Delete(&userRoleModel{}).Error; err != nil {
			return classify(op, err)
		}
		if err := db.Where("role_name = ?", name).Delete(&clientRoleModel{}).Error; err != nil {
			return classify(op, err)
		}
		res := db.Where("name = ?", name).Delete(&roleModel{})
		if res.Error != nil {
			return classify(op, res.Error)
		}
		if res.RowsAffected == 0 {
			return notFound(op)
		}
		return nil
	})
}

// assign inserts an assignment row after checking that both ends exist.
func (s *Store) assign(ctx context.Context, op string, holder any, holderID string, row any) error {
	return s.inTx(ctx, func(ctx context.Context) error {
		db := s.conn(ctx)
		var n int64
		if err := db.Model(holder).Where("id = ?", holderID).Count(&n).Error; err != nil {
			return classify(op, err)
		}
		if n == 0 {
			return notFound(op)
		}
		return classify(op, db.Clauses(clause.OnConflict{DoNothing: true}).Create(row).Error)
	})
}

func (s *Store) requireRole(ctx context.Context, op, role string) error {
	var n int64
	if err := s.conn(ctx).Model(&roleModel{}).Where("name = ?", role).Count(&n).Error; err != nil {
		return classify(op, err)
	}
	if n == 0 {
		return notFound(op)
	}
	return nil
}

// GrantUserRole gives a user a role (idempotent).
func (s *Store) GrantUserRole(ctx context.Context, userID, role string) error {
	op := fmt.Sprintf("grant role %q to user %q", role, userID)
	return s.inTx(ctx, func(ctx context.Context) error {
		if err := s.requireRole(ctx, op, role); err != nil {
			return err
		}
		return s.assign(ctx, op, &userModel{}, userID, &userRoleModel{UserID: userID, RoleName: role})
	})
}

// RevokeUserRole takes a role from a user (idempotent).
func (s *Store) RevokeUserRole(ctx context.Context, userID, role string) error {
	err := s.conn(ctx).Where("user_id = ? AND role_name = ?", userID, role).Delete(&userRoleModel{}).Error
	return classify(fmt.Sprintf("revoke role %q from user %q", role, userID), err)
}

// UserRoles returns the roles a user holds, by name.
func (s *Store) UserRoles(ctx context.Context, userID string) ([]*storage.Role, error) {
	var ms []roleModel
	err := s.conn(ctx).Joins("JOIN user_roles ON user_roles.role_name = roles.name").
		Where("user_roles.user_id = ?", userID).Order("roles.name").Find(&ms).Error
	if err != nil {
		return nil, classify(fmt.Sprintf("roles of user %q", userID), err)
	}
	return roleRecords(ms), nil
}

// RoleUserIDs returns the ids of the users holding a role.
func (s *Store) RoleUserIDs(ctx context.Context, role string) ([]string, error) {
	var ids []string
	err := s.conn(ctx).Model(&userRoleModel{}).Where("role_name = ?", role).Order("user_id").Pluck("user_id", &ids).Error
	if err != nil {
		return nil, classify(fmt.Sprintf("users of role %q", role), err)
	}
	return ids, nil
}

// GrantClientRole gives a client a role (idempotent).
func (s *Store) GrantClientRole(ctx context.Context, clientID, role string) error {
	op := fmt.Sprintf("grant role %q to client %q", role, clientID)
	return s.inTx(ctx, func(ctx context.Context) error {
		if err := s.requireRole(ctx, op, role); err != nil {
			return err
		}
		return s.assign(ctx, op, &clientModel{}, clientID, &clientRoleModel{ClientID: clientID, RoleName: role})
	})
}

// RevokeClientRole takes a role from a client (idempotent).
func (s *Store) RevokeClientRole(ctx context.Context, clientID, role string) error {
	err := s.conn(ctx).Where("client_id = ? AND role_name = ?", clientID, role).Delete(&clientRoleModel{}).Error
	return classify(fmt.Sprintf("revoke role %q from client %q", role, clientID), err)
}

// ClientRoles returns the roles a client holds, by name.
func (s *Store) ClientRoles(ctx context.Context, clientID string) ([]*storage.Role, error) {
	var ms []roleModel
	err := s.conn(ctx).Joins("JOIN client_roles ON client_roles.role_name = roles.name").
		Where("client_roles.client_id = ?", clientID).Order("roles.name").Find(&ms).Error
	if err != nil {
		return nil, classify(fmt.Sprintf("roles of client %q", clientID), err)
	}
	return roleRecords(ms), nil
}
