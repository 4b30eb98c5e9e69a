package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm/schema"

	"github.com/gatehouse/gatehouse/storage"
)

// Clients and users are always read together with the roles they hold, and
// a stored request together with its client: one round trip where the
// token endpoint, introspection and authorization used to need two or three.
// The queries run with Find into a small slice: GORM's Scan would record
// every statement for its logger (a regexp pass over the SQL) and start
// from a 20-row slice.

// heldRole is the role half of a row LEFT JOINed with roles: NULL columns
// for a holder without roles.
type heldRole struct {
	Name        sql.NullString `gorm:"column:name"`
	Description sql.NullString `gorm:"column:description"`
	Scopes      stringList     `gorm:"column:scopes"`
	RequireMFA  sql.NullBool   `gorm:"column:require_mfa"`
	CreatedAt   *time.Time     `gorm:"column:created_at"`
	UpdatedAt   *time.Time     `gorm:"column:updated_at"`
}

func (r *heldRole) record() *storage.Role {
	if !r.Name.Valid {
		return nil
	}
	role := &storage.Role{Name: r.Name.String, Description: r.Description.String, Scopes: r.Scopes, RequireMFA: r.RequireMFA.Bool}
	if r.CreatedAt != nil {
		role.CreatedAt = r.CreatedAt.UTC()
	}
	if r.UpdatedAt != nil {
		role.UpdatedAt = r.UpdatedAt.UTC()
	}
	return role
}

// clientRoleRow is a client with one of its roles.
type clientRoleRow struct {
	Client clientModel `gorm:"embedded;embeddedPrefix:c_"`
	Role   heldRole    `gorm:"embedded;embeddedPrefix:r_"`
}

// userRoleRow is a user with one of its roles.
type userRoleRow struct {
	User userModel `gorm:"embedded;embeddedPrefix:u_"`
	Role heldRole  `gorm:"embedded;embeddedPrefix:r_"`
}

// requestClientRow is a stored request with its client and a role of it.
type requestClientRow struct {
	Request requestModel  `gorm:"embedded"`
	Holder  clientRoleRow `gorm:"embedded"`
}

// prefixedColumns selects every column of model's table as prefix+column.
func prefixedColumns(model any, table, prefix string) string {
	s, err := schema.Parse(model, &sync.Map{}, schema.NamingStrategy{})
	if err != nil {
		panic(fmt.Sprintf("parse the %s model: %v", table, err))
	}
	cols := make([]string, len(s.DBNames))
	for i, name := range s.DBNames {
		cols[i] = table + "." + name + " AS " + prefix + name
	}
	return strings.Join(cols, ", ")
}

var (
	clientRoleColumns = sync.OnceValue(func() string {
		return prefixedColumns(&clientModel{}, "clients", "c_") + ", " + prefixedColumns(&roleModel{}, "roles", "r_")
	})
	userRoleColumns = sync.OnceValue(func() string {
		return prefixedColumns(&userModel{}, "users", "u_") + ", " + prefixedColumns(&roleModel{}, "roles", "r_")
	})
)

const (
	clientRoleJoins = " LEFT JOIN client_roles ON client_roles.client_id = clients.id" +
		" LEFT JOIN roles ON roles.name = client_roles.role_name"
	userRoleJoins = " LEFT JOIN user_roles ON user_roles.user_id = users.id" +
		" LEFT JOIN roles ON roles.name = user_roles.role_name"
)

// findClientWithRoles reads a client and its roles in one query.
func (s *Store) findClientWithRoles(ctx context.Context, id string) (*storage.Client, error) {
	op := fmt.Sprintf("find client %q", id)
	rows := make([]clientRoleRow, 0, 4)
	err := s.conn(ctx).Raw("SELECT "+clientRoleColumns()+" FROM clients"+clientRoleJoins+
		" WHERE clients.id = ? ORDER BY roles.name", id).Find(&rows).Error
	if err != nil {
		return nil, classify(op, err)
	}
	if len(rows) == 0 {
		return nil, notFound(op)
	}
	return clientFromRows(rows), nil
}

// clientFromRows builds the client of rows (all of one client) with its roles.
func clientFromRows(rows []clientRoleRow) *storage.Client {
	c := rows[0].Client.record()
	for i := range rows {
		if role := rows[i].Role.record(); role != nil {
			c.Roles = append(c.Roles, role)
		}
	}
	return c
}

// findUserWithRoles reads the user matching where (on the users table) and
// the user's roles in one query.
func (s *Store) findUserWithRoles(ctx context.Context, op, where string, arg any) (*storage.User, error) {
	rows := make([]userRoleRow, 0, 4)
	err := s.conn(ctx).Raw("SELECT "+userRoleColumns()+" FROM users"+userRoleJoins+
		" WHERE "+where+" ORDER BY roles.name", arg).Find(&rows).Error
	if err != nil {
		return nil, classify(op, err)
	}
	if len(rows) == 0 {
		return nil, notFound(op)
	}
	u := rows[0].User.record()
	for i := range rows {
		if role := rows[i].Role.record(); role != nil {
			u.Roles = append(u.Roles, role)
		}
	}
	return u, nil
}

// findRequestWithClient reads a stored request with its client and the
// client's roles in one query.
func (s *Store) findRequestWithClient(ctx context.Context, op, table, key string) (*requestModel, *storage.Client, error) {
	rows := make([]requestClientRow, 0, 2)
	err := s.conn(ctx).Raw("SELECT "+table+".*, "+clientRoleColumns()+" FROM "+table+
		" JOIN clients ON clients.id = "+table+".client_id"+clientRoleJoins+
		" WHERE "+table+".signature = ? ORDER BY roles.name", key).Find(&rows).Error
	if err != nil {
		return nil, nil, classify(op, err)
	}
	if len(rows) == 0 {
		return nil, nil, notFound(op)
	}
	holders := make([]clientRoleRow, len(rows))
	for i := range rows {
		holders[i] = rows[i].Holder
	}
	return &rows[0].Request, clientFromRows(holders), nil
}
