package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm/schema"

	"github.com/gatehouse/gatehouse/storage"
)

// Clients and users are always read together with the roles they hold, and
// a stored request together with its client: one round trip where the
// token endpoint, introspection and authorization used to need two or three.
// These are the hottest queries (every token request, every introspection),
// so they are scanned with database/sql straight into the models' fields:
// GORM's Scan costs about a fifth of the introspection endpoint's CPU.

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

// columns are a model's columns in a fixed order, with the index of each
// one's struct field, so that a row scans straight into the model.
type columns struct {
	names   []string
	indexes [][]int
}

func columnsOf(model any) columns {
	s, err := schema.Parse(model, &sync.Map{}, schema.NamingStrategy{})
	if err != nil {
		panic(fmt.Sprintf("parse model %T: %v", model, err))
	}
	var c columns
	for _, name := range s.DBNames {
		c.names = append(c.names, name)
		c.indexes = append(c.indexes, s.FieldsByDBName[name].StructField.Index)
	}
	return c
}

// list selects the columns of table, named prefix+column.
func (c columns) list(table, prefix string) string {
	cols := make([]string, len(c.names))
	for i, name := range c.names {
		cols[i] = table + "." + name + " AS " + prefix + name
	}
	return strings.Join(cols, ", ")
}

// targets appends pointers to the fields of the struct model points to,
// in the order of list.
func (c columns) targets(dst []any, model any) []any {
	v := reflect.ValueOf(model).Elem()
	for _, index := range c.indexes {
		dst = append(dst, v.FieldByIndex(index).Addr().Interface())
	}
	return dst
}

var (
	clientColumns = sync.OnceValue(func() columns { return columnsOf(&clientModel{}) })
	userColumns   = sync.OnceValue(func() columns { return columnsOf(&userModel{}) })
	roleColumns   = sync.OnceValue(func() columns { return columnsOf(&heldRole{}) })
	// Only refresh tokens have access_signature.
	refreshColumns = sync.OnceValue(func() columns { return columnsOf(&requestModel{}) })
	requestColumns = sync.OnceValue(func() columns { return refreshColumns().without("access_signature") })
)

func (c columns) without(name string) columns {
	var out columns
	for i, n := range c.names {
		if n != name {
			out.names = append(out.names, n)
			out.indexes = append(out.indexes, c.indexes[i])
		}
	}
	return out
}

const (
	clientRoleJoins = " LEFT JOIN client_roles ON client_roles.client_id = clients.id" +
		" LEFT JOIN roles ON roles.name = client_roles.role_name"
	userRoleJoins = " LEFT JOIN user_roles ON user_roles.user_id = users.id" +
		" LEFT JOIN roles ON roles.name = user_roles.role_name"
)

// queryRows runs a query of one parameter (written $1) on the store's
// connection or the context's transaction, and calls scan for each row.
// Slow queries are logged like GORM's.
func (s *Store) queryRows(ctx context.Context, op, query string, arg any, scan func(*sql.Rows) error) error {
	if s.dialect == DialectSQLite {
		query = strings.Replace(query, "$1", "?", 1)
	}
	db := s.conn(ctx)
	begin := time.Now()
	rows, err := db.Statement.ConnPool.QueryContext(ctx, query, arg)
	if err == nil {
		for rows.Next() {
			if err = scan(rows); err != nil {
				break
			}
		}
		if cerr := rows.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = rows.Err()
		}
	}
	db.Logger.Trace(ctx, begin, func() (string, int64) { return query, -1 }, err)
	return classify(op, err)
}

// findClientWithRoles reads a client and its roles in one query.
func (s *Store) findClientWithRoles(ctx context.Context, id string) (*storage.Client, error) {
	op := fmt.Sprintf("find client %q", id)
	query := "SELECT " + clientColumns().list("clients", "c_") + ", " + roleColumns().list("roles", "r_") +
		" FROM clients" + clientRoleJoins + " WHERE clients.id = $1 ORDER BY roles.name"
	var h holder[clientModel]
	if err := s.queryRows(ctx, op, query, id, h.scan(clientColumns(), columns{}, nil)); err != nil {
		return nil, err
	}
	if !h.found {
		return nil, notFound(op)
	}
	c := h.model.record()
	c.Roles = h.roles
	return c, nil
}

// findUserWithRoles reads the user matching where (on the users table, with
// the one parameter $1) and the user's roles in one query.
func (s *Store) findUserWithRoles(ctx context.Context, op, where string, arg any) (*storage.User, error) {
	query := "SELECT " + userColumns().list("users", "u_") +
		", EXISTS (SELECT 1 FROM totp_credentials WHERE totp_credentials.user_id = users.id) AS u_has_totp, " +
		roleColumns().list("roles", "r_") + " FROM users" + userRoleJoins + " WHERE " + where + " ORDER BY roles.name"
	var h holder[userModel]
	var hasTOTP bool
	if err := s.queryRows(ctx, op, query, arg, h.scan(userColumns(), columns{}, nil, &hasTOTP)); err != nil {
		return nil, err
	}
	if !h.found {
		return nil, notFound(op)
	}
	u := h.model.record()
	u.Roles, u.HasTOTP = h.roles, hasTOTP
	return u, nil
}

// findRequestWithClient reads a stored request with its client and the
// client's roles in one query.
func (s *Store) findRequestWithClient(ctx context.Context, op, table, key string) (*requestModel, *storage.Client, error) {
	reqCols := requestColumns()
	if table == tableRefreshTokens {
		reqCols = refreshColumns()
	}
	query := "SELECT " + reqCols.list(table, "t_") + ", " + clientColumns().list("clients", "c_") + ", " +
		roleColumns().list("roles", "r_") + " FROM " + table + " JOIN clients ON clients.id = " + table + ".client_id" +
		clientRoleJoins + " WHERE " + table + ".signature = $1 ORDER BY roles.name"
	var req requestModel
	var h holder[clientModel]
	if err := s.queryRows(ctx, op, query, key, h.scan(clientColumns(), reqCols, &req)); err != nil {
		return nil, nil, err
	}
	if !h.found {
		return nil, nil, notFound(op)
	}
	c := h.model.record()
	c.Roles = h.roles
	return &req, c, nil
}

// insertRow inserts the model's columns cols into table on the store's
// connection or the context's transaction (the token endpoint's one write;
// GORM's Create costs a tenth of its CPU).
func (s *Store) insertRow(ctx context.Context, op, table string, cols columns, model any) error {
	marks := make([]string, len(cols.names))
	for i := range marks {
		marks[i] = "?"
		if s.dialect == DialectPostgres {
			marks[i] = fmt.Sprintf("$%d", i+1)
		}
	}
	query := "INSERT INTO " + table + " (" + strings.Join(cols.names, ", ") + ") VALUES (" + strings.Join(marks, ", ") + ")"
	v := reflect.ValueOf(model).Elem()
	args := make([]any, len(cols.indexes))
	for i, index := range cols.indexes {
		args[i] = v.FieldByIndex(index).Interface()
	}
	db := s.conn(ctx)
	begin := time.Now()
	_, err := db.Statement.ConnPool.ExecContext(ctx, query, args...)
	db.Logger.Trace(ctx, begin, func() (string, int64) { return query, 1 }, err)
	return classify(op, err)
}

// holder collects the rows of one client or user LEFT JOINed with its roles.
type holder[M any] struct {
	model M
	roles []*storage.Role
	found bool
}

// scan reads a row of request columns (reqCols, none without a request),
// holder columns, extra columns of the holder, role columns; all but the
// role's are the same on every row.
func (h *holder[M]) scan(cols, reqCols columns, req *requestModel, extra ...any) func(*sql.Rows) error {
	return func(rows *sql.Rows) error {
		var role heldRole
		dst := make([]any, 0, len(reqCols.names)+len(cols.names)+len(extra)+len(roleColumns().names))
		if req != nil {
			dst = reqCols.targets(dst, req)
		}
		dst = cols.targets(dst, &h.model)
		dst = append(dst, extra...)
		dst = roleColumns().targets(dst, &role)
		if err := rows.Scan(dst...); err != nil {
			return err
		}
		h.found = true
		if r := role.record(); r != nil {
			h.roles = append(h.roles, r)
		}
		return nil
	}
}
