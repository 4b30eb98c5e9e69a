package sqlstore

import (
	"context"
	"sync"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse/gatehouse/storage"
)

// prefetchTables are the tables of the records a storage.Prefetch names.
var prefetchTables = map[storage.RecordKind]string{
	storage.AccessTokenRecord:   tableAccessTokens,
	storage.RefreshTokenRecord:  tableRefreshTokens,
	storage.AuthorizeCodeRecord: tableAuthorizeCodes,
	storage.PKCERecord:          tablePKCERequests,
	storage.OpenIDSessionRecord: tableOIDCSessions,
}

type prefetchKey struct{}

// prefetched holds what a Prefetch read, each row answered once. A nil
// client or row records that there was none; users are only those found.
type prefetched struct {
	mu       sync.Mutex
	clients  map[string]*storage.Client
	requests map[string]prefetchedRequest
	users    map[string]*storage.User
}

type prefetchedRequest struct {
	row    *requestModel
	client *storage.Client
}

// prefetchedFrom returns what ctx's Prefetch read, or nil inside a
// transaction: a read there must see the transaction's own writes.
func prefetchedFrom(ctx context.Context) *prefetched {
	if inOpenTx(ctx) {
		return nil
	}
	p, _ := ctx.Value(prefetchKey{}).(*prefetched)
	return p
}

func (p *prefetched) takeClient(id string) (*storage.Client, bool) {
	if p == nil {
		return nil, false
	}
	return take(&p.mu, p.clients, id)
}

func (p *prefetched) takeUser(id string) (*storage.User, bool) {
	if p == nil {
		return nil, false
	}
	return take(&p.mu, p.users, id)
}

func (p *prefetched) takeRequest(table, key string) (prefetchedRequest, bool) {
	if p == nil {
		return prefetchedRequest{}, false
	}
	return take(&p.mu, p.requests, requestKey(table, key))
}

// take answers key from m once: the entry is gone after it.
func take[V any](mu *sync.Mutex, m map[string]V, key string) (V, bool) {
	mu.Lock()
	defer mu.Unlock()
	v, ok := m[key]
	delete(m, key)
	return v, ok
}

// requestKey names a fosite record among those prefetched.
func requestKey(table, key string) string { return table + " " + key }

// Prefetch reads the rows p names in one round trip on PostgreSQL, with the
// queries the store's methods would run one by one. On SQLite, which runs
// in-process, and inside a transaction it reads nothing. When anything goes
// wrong it returns ctx as it was: the methods then read for themselves.
func (s *Store) Prefetch(ctx context.Context, p storage.Prefetch) context.Context {
	if s.dialect != DialectPostgres || inOpenTx(ctx) {
		return ctx
	}
	pf := &prefetched{clients: map[string]*storage.Client{}, requests: map[string]prefetchedRequest{}, users: map[string]*storage.User{}}
	var batch pgx.Batch
	var reads []func(pgx.Rows) error
	if p.ClientID != "" {
		id := p.ClientID
		var m clientModel
		h := newHolderScan(nil, clientColumns(), &m)
		batch.Queue(s.bind(clientQuery()), id)
		reads = append(reads, func(rows pgx.Rows) error {
			if err := scanRows(rows, h); err != nil {
				return err
			}
			var c *storage.Client
			if h.found {
				c = m.withRoles(h.roles)
			}
			pf.clients[id] = c
			return nil
		})
	}
	for _, r := range p.Rows {
		table, ok := prefetchTables[r.Kind]
		if !ok {
			continue
		}
		key := digest(r.Key)
		var row requestModel
		var m clientModel
		h := newHolderScan(requestColumnsOf(table).targets(nil, &row), clientColumns(), &m)
		batch.Queue(s.bind(requestQueries()[table]), key)
		reads = append(reads, func(rows pgx.Rows) error {
			if err := scanRows(rows, h); err != nil {
				return err
			}
			var r prefetchedRequest
			if h.found {
				r = prefetchedRequest{row: &row, client: m.withRoles(h.roles)}
			}
			pf.requests[requestKey(table, key)] = r
			return nil
		})
	}
	// readUser queues a read of the user query names by arg; she is kept
	// only when found.
	readUser := func(query string, arg any) {
		var m userModel
		var hasTOTP bool
		h := newHolderScan([]any{&hasTOTP}, userColumns(), &m)
		batch.Queue(s.bind(query), arg)
		reads = append(reads, func(rows pgx.Rows) error {
			if err := scanRows(rows, h); err != nil {
				return err
			}
			if h.found {
				pf.users[m.ID] = m.withRoles(h.roles, hasTOTP)
			}
			return nil
		})
	}
	for _, r := range p.SubjectsOf {
		if table, ok := prefetchTables[r.Kind]; ok {
			readUser(subjectQueries()[table], digest(r.Key))
		}
	}
	if p.SessionUser != "" {
		readUser(sessionUserQuery(), p.SessionUser)
	}
	if len(reads) == 0 {
		return ctx
	}
	conn, err := s.sqlDB.Conn(ctx)
	if err != nil {
		return ctx
	}
	defer conn.Close()
	err = onPgx(conn, func(c *pgx.Conn) error {
		results := c.SendBatch(ctx, &batch)
		for _, read := range reads {
			rows, err := results.Query()
			if err == nil {
				err = read(rows)
			}
			if err != nil {
				_ = results.Close()
				return err
			}
		}
		return results.Close()
	})
	if err != nil {
		return ctx
	}
	return context.WithValue(ctx, prefetchKey{}, pf)
}

// scanRows scans every row of rows into h.
func scanRows(rows pgx.Rows, h *holderScan) error {
	defer rows.Close()
	for rows.Next() {
		if err := h.row(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}
