package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"reflect"
	"slices"
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
	dst = slices.Grow(dst, len(c.indexes))
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

// queryRows runs a query of one parameter on the store's connection or the
// context's transaction, and calls scan for each row. Slow queries are
// logged like GORM's.
func (s *Store) queryRows(ctx context.Context, op, query string, arg any, scan func(*sql.Rows) error) error {
	query = s.bind(query)
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

// The three queries, built once; ? is their one parameter.
var (
	clientQuery = sync.OnceValue(func() string {
		return "SELECT " + clientColumns().list("clients", "c_") + ", " + roleColumns().list("roles", "r_") +
			" FROM clients" + clientRoleJoins + " WHERE clients.id = ?"
	})
	userQuery = sync.OnceValue(func() string { return userQueryWhere("?") })
	// subjectQueries read the user who is the subject of a fosite row.
	subjectQueries = sync.OnceValue(func() map[string]string {
		queries := make(map[string]string, len(requestTables))
		for _, table := range requestTables {
			queries[table] = userQueryWhere("(SELECT subject FROM " + table + " WHERE signature = ?)")
		}
		return queries
	})
	sessionUserQuery = sync.OnceValue(func() string { return userQueryWhere(sessionUserID) })
	requestQueries   = sync.OnceValue(func() map[string]string {
		queries := make(map[string]string, len(requestTables))
		for _, table := range requestTables {
			queries[table] = "SELECT " + requestColumnsOf(table).list(table, "t_") + ", " +
				clientColumns().list("clients", "c_") + ", " + roleColumns().list("roles", "r_") +
				" FROM " + table + " JOIN clients ON clients.id = " + table + ".client_id" + clientRoleJoins +
				" WHERE " + table + ".signature = ?"
		}
		return queries
	})
	requestInserts = sync.OnceValue(func() map[string]string {
		inserts := make(map[string]string, len(requestTables))
		for _, table := range requestTables {
			cols := requestColumnsOf(table)
			marks := strings.TrimSuffix(strings.Repeat("?, ", len(cols.names)), ", ")
			inserts[table] = "INSERT INTO " + table + " (" + strings.Join(cols.names, ", ") + ") VALUES (" + marks + ")"
		}
		return inserts
	})
)

// sessionUserID is the id of the user of the browser session whose id is
// the parameter (an SQL expression).
const sessionUserID = "(SELECT user_id FROM browser_sessions WHERE id = ?)"

// userQueryWhere is the query of a user with her roles and whether she has
// an authenticator app, for the user whose id is id (an SQL expression).
func userQueryWhere(id string) string {
	return "SELECT EXISTS (SELECT 1 FROM totp_credentials WHERE totp_credentials.user_id = users.id) AS has_totp, " +
		userColumns().list("users", "u_") + ", " + roleColumns().list("roles", "r_") +
		" FROM users" + userRoleJoins + " WHERE users.id = " + id
}

// requestColumnsOf are the columns of a fosite table.
func requestColumnsOf(table string) columns {
	if table == tableRefreshTokens {
		return refreshColumns()
	}
	return requestColumns()
}

// findClientWithRoles reads a client and its roles in one query.
func (s *Store) findClientWithRoles(ctx context.Context, id string) (*storage.Client, error) {
	op := fmt.Sprintf("find client %q", id)
	if c, ok := prefetchedFrom(ctx).takeClient(id); ok {
		if c == nil {
			return nil, notFound(op)
		}
		return c, nil
	}
	h, client := clientScan()
	if err := s.queryHolder(ctx, op, clientQuery(), id, h); err != nil {
		return nil, err
	}
	return client(), nil
}

// findUserWithRoles reads a user, whether she has an authenticator app, and
// her roles in one query.
func (s *Store) findUserWithRoles(ctx context.Context, id string) (*storage.User, error) {
	if u, ok := prefetchedFrom(ctx).takeUser(id); ok {
		return u, nil
	}
	h, user := userScan()
	if err := s.queryHolder(ctx, fmt.Sprintf("find user %q", id), userQuery(), id, h); err != nil {
		return nil, err
	}
	return user(), nil
}

// findRequestWithClient reads a stored request with its client and the
// client's roles in one query.
func (s *Store) findRequestWithClient(ctx context.Context, op, table, key string) (*requestModel, *storage.Client, error) {
	if r, ok := prefetchedFrom(ctx).takeRequest(table, key); ok {
		if r.row == nil {
			return nil, nil, notFound(op)
		}
		return r.row, r.client, nil
	}
	h, request := requestScan(table)
	if err := s.queryHolder(ctx, op, requestQueries()[table], key, h); err != nil {
		return nil, nil, err
	}
	row, client := request()
	return row, client, nil
}

// clientScan, userScan and requestScan prepare the scan of a client query
// (clientQuery), a user query (userQueryWhere) and a request query
// (requestQueries), the same for a plain read and a prefetch; the function
// each returns builds the record once the rows have been scanned.
func clientScan() (*holderScan, func() *storage.Client) {
	var m clientModel
	h := newHolderScan(nil, clientColumns(), &m)
	return h, func() *storage.Client { return m.withRoles(h.roles) }
}

func userScan() (*holderScan, func() *storage.User) {
	var m userModel
	var hasTOTP bool
	h := newHolderScan([]any{&hasTOTP}, userColumns(), &m)
	return h, func() *storage.User {
		u := m.record()
		u.Roles, u.HasTOTP = h.roles, hasTOTP
		return u
	}
}

func requestScan(table string) (*holderScan, func() (*requestModel, *storage.Client)) {
	var row requestModel
	var m clientModel
	h := newHolderScan(requestColumnsOf(table).targets(nil, &row), clientColumns(), &m)
	return h, func() (*requestModel, *storage.Client) { return &row, m.withRoles(h.roles) }
}

// withRoles is the client a holder query read, with the roles its rows
// held.
func (m *clientModel) withRoles(roles []*storage.Role) *storage.Client {
	c := m.record()
	c.Roles = roles
	return c
}

// queryHolder runs a holder query and scans its rows into h, or returns
// ErrNotFound without rows.
func (s *Store) queryHolder(ctx context.Context, op, query string, arg any, h *holderScan) error {
	if err := s.queryRows(ctx, op, query, arg, func(rows *sql.Rows) error { return h.row(rows) }); err != nil {
		return err
	}
	if !h.found {
		return notFound(op)
	}
	return nil
}

// holderScan scans the rows of a holder query (see queryHolder). Every row
// scans into the same targets: all but the role's columns are the same on
// every row.
type holderScan struct {
	dst   []any
	role  heldRole
	roles []*storage.Role
	found bool
}

func newHolderScan(lead []any, cols columns, model any) *holderScan {
	h := &holderScan{}
	h.dst = make([]any, len(lead), len(lead)+len(cols.indexes)+len(roleColumns().indexes))
	copy(h.dst, lead)
	h.dst = roleColumns().targets(cols.targets(h.dst, model), &h.role)
	return h
}

// row scans one row (from database/sql or from pgx).
func (h *holderScan) row(rows interface{ Scan(dest ...any) error }) error {
	if err := rows.Scan(h.dst...); err != nil {
		return err
	}
	h.found = true
	if r := h.role.record(); r != nil {
		// The queries leave the roles unordered: a Sort node made
		// PostgreSQL's share of each holder query about a fifth dearer
		// (pgbench, introspection's two queries). They are kept ordered by
		// name here, bytewise whatever the database's collation.
		i, _ := slices.BinarySearchFunc(h.roles, r.Name, func(have *storage.Role, name string) int { return strings.Compare(have.Name, name) })
		h.roles = slices.Insert(h.roles, i, r)
	}
	return nil
}

// insertRequest inserts a request row into table (the token endpoint's one
// write; GORM's Create costs a tenth of its CPU).
func (s *Store) insertRequest(ctx context.Context, op, table string, m *requestModel) error {
	v := reflect.ValueOf(m).Elem()
	indexes := requestColumnsOf(table).indexes
	args := make([]any, len(indexes))
	for i, index := range indexes {
		args[i] = v.FieldByIndex(index).Interface()
	}
	return s.execLater(ctx, op, requestInserts()[table], args...)
}

// execRow runs a statement on the store's connection or the context's
// transaction and returns the rows it affected. The token endpoint's
// writes go through it: GORM's Create, Update and Delete cost more CPU than
// the statements themselves.
func (s *Store) execRow(ctx context.Context, op, query string, args ...any) (int64, error) {
	query = s.bind(query)
	if tx, ok := ctx.Value(txKey{}).(*pgTx); ok {
		return tx.exec(ctx, pgWrite{op: op, query: query, args: args})
	}
	db := s.conn(ctx)
	begin := time.Now()
	res, err := db.Statement.ConnPool.ExecContext(ctx, query, args...)
	var n int64
	if err == nil {
		n, err = res.RowsAffected()
	}
	db.Logger.Trace(ctx, begin, func() (string, int64) { return query, n }, err)
	return n, classify(op, err)
}

// execLater runs a write whose affected rows nobody needs. In a
// transaction on PostgreSQL it goes with the transaction's next round trip
// (see pgTx), and its error, if any, comes from that statement or the
// commit.
func (s *Store) execLater(ctx context.Context, op, query string, args ...any) error {
	if tx, ok := ctx.Value(txKey{}).(*pgTx); ok {
		return tx.later(pgWrite{op: op, query: s.bind(query), args: args})
	}
	_, err := s.execRow(ctx, op, query, args...)
	return err
}

// bind returns a statement written with ? placeholders in the store's
// dialect: PostgreSQL's are numbered ($1, $2, …). The statements are fixed
// texts (no values in them), a few per table, so each is numbered once.
func (s *Store) bind(query string) string {
	if s.dialect != DialectPostgres {
		return query
	}
	if bound, ok := s.bound.Load(query); ok {
		return bound.(string)
	}
	bound := numberPlaceholders(query)
	s.bound.Store(query, bound)
	return bound
}

// numberPlaceholders turns ? placeholders into PostgreSQL's $1, $2, …
// (the statements it is given hold no other question marks).
func numberPlaceholders(query string) string {
	var b strings.Builder
	b.Grow(len(query) + 8)
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
