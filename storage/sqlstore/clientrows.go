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

// A client is always read together with the roles it holds, and a stored
// request together with its client: one round trip where the token
// endpoint and introspection used to need two or three.

// clientRoleRow is one row of a client LEFT JOINed with one of its roles;
// the role columns are NULL for a client without roles.
type clientRoleRow struct {
	Client          clientModel    `gorm:"embedded;embeddedPrefix:c_"`
	RoleName        sql.NullString `gorm:"column:r_name"`
	RoleDescription sql.NullString `gorm:"column:r_description"`
	RoleScopes      stringList     `gorm:"column:r_scopes"`
	RoleRequireMFA  sql.NullBool   `gorm:"column:r_require_mfa"`
	RoleCreatedAt   *time.Time     `gorm:"column:r_created_at"`
	RoleUpdatedAt   *time.Time     `gorm:"column:r_updated_at"`
}

// requestClientRow is a stored request joined with its client and a role.
type requestClientRow struct {
	Request requestModel  `gorm:"embedded"`
	Holder  clientRoleRow `gorm:"embedded"`
}

// clientRoleColumns selects the client's columns (prefixed c_) and its
// role's (prefixed r_); clientRoleJoins joins them to "clients".
var clientRoleColumns = sync.OnceValue(func() string {
	s, err := schema.Parse(&clientModel{}, &sync.Map{}, schema.NamingStrategy{})
	if err != nil {
		panic(fmt.Sprintf("parse the client model: %v", err))
	}
	cols := make([]string, 0, len(s.DBNames)+6)
	for _, name := range s.DBNames {
		cols = append(cols, "clients."+name+" AS c_"+name)
	}
	for _, name := range []string{"name", "description", "scopes", "require_mfa", "created_at", "updated_at"} {
		cols = append(cols, "roles."+name+" AS r_"+name)
	}
	return strings.Join(cols, ", ")
})

const clientRoleJoins = " LEFT JOIN client_roles ON client_roles.client_id = clients.id" +
	" LEFT JOIN roles ON roles.name = client_roles.role_name"

// findClientWithRoles reads a client and its roles in one query.
func (s *Store) findClientWithRoles(ctx context.Context, id string) (*storage.Client, error) {
	var rows []clientRoleRow
	err := s.conn(ctx).Raw("SELECT "+clientRoleColumns()+" FROM clients"+clientRoleJoins+
		" WHERE clients.id = ? ORDER BY roles.name", id).Scan(&rows).Error
	if err != nil {
		return nil, classify(fmt.Sprintf("find client %q", id), err)
	}
	if len(rows) == 0 {
		return nil, notFound(fmt.Sprintf("find client %q", id))
	}
	return clientFromRows(rows), nil
}

// clientFromRows builds the client of the rows (all of one client) with
// its roles.
func clientFromRows(rows []clientRoleRow) *storage.Client {
	c := rows[0].Client.record()
	for _, r := range rows {
		if !r.RoleName.Valid {
			continue
		}
		role := &storage.Role{Name: r.RoleName.String, Description: r.RoleDescription.String,
			Scopes: r.RoleScopes, RequireMFA: r.RoleRequireMFA.Bool}
		if r.RoleCreatedAt != nil {
			role.CreatedAt = r.RoleCreatedAt.UTC()
		}
		if r.RoleUpdatedAt != nil {
			role.UpdatedAt = r.RoleUpdatedAt.UTC()
		}
		c.Roles = append(c.Roles, role)
	}
	return c
}

// findRequestWithClient reads a stored request with its client and the
// client's roles in one query.
func (s *Store) findRequestWithClient(ctx context.Context, op, table, key string) (*requestModel, *storage.Client, error) {
	var rows []requestClientRow
	err := s.conn(ctx).Raw("SELECT "+table+".*, "+clientRoleColumns()+" FROM "+table+
		" JOIN clients ON clients.id = "+table+".client_id"+clientRoleJoins+
		" WHERE "+table+".signature = ? ORDER BY roles.name", key).Scan(&rows).Error
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
