package sqlstore

import (
	"context"
	"sync"
	"time"

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
	sessions map[string]*storage.BrowserSession
	consents map[string]*storage.Consent // by consentKey
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

func (p *prefetched) takeSession(id string) (*storage.BrowserSession, bool) {
	if p == nil {
		return nil, false
	}
	return take(&p.mu, p.sessions, id)
}

func (p *prefetched) takeConsent(userID, clientID string) (*storage.Consent, bool) {
	if p == nil {
		return nil, false
	}
	return take(&p.mu, p.consents, consentKey(userID, clientID))
}

func consentKey(userID, clientID string) string { return userID + " " + clientID }

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
	pf := &prefetched{clients: map[string]*storage.Client{}, requests: map[string]prefetchedRequest{}, users: map[string]*storage.User{},
		sessions: map[string]*storage.BrowserSession{}, consents: map[string]*storage.Consent{}}
	var batch pgx.Batch
	var reads []func(pgx.Rows) error
	// queue queues query with args; scan reads its rows and reports
	// whether there were any, and found runs then. A read records "none"
	// first where it can, which found replaces (if the pipeline fails,
	// nothing is kept).
	queue := func(query string, args []any, scan func(pgx.Rows) (bool, error), found func()) {
		batch.Queue(s.bind(query), args...)
		reads = append(reads, func(rows pgx.Rows) error {
			ok, err := scan(rows)
			if err == nil && ok {
				found()
			}
			return err
		})
	}
	read := func(query string, arg any, h *holderScan, found func()) {
		queue(query, []any{arg}, func(rows pgx.Rows) (bool, error) {
			err := scanRows(rows, h)
			return h.found, err
		}, found)
	}
	if p.ClientID != "" {
		id := p.ClientID
		h, client := clientScan()
		pf.clients[id] = nil
		read(clientQuery(), id, h, func() { pf.clients[id] = client() })
	}
	for _, r := range p.Rows {
		table, ok := prefetchTables[r.Kind]
		if !ok {
			continue
		}
		signature := digest(r.Key)
		key := requestKey(table, signature)
		h, request := requestScan(table)
		pf.requests[key] = prefetchedRequest{}
		read(requestQueries()[table], signature, h, func() {
			row, client := request()
			pf.requests[key] = prefetchedRequest{row: row, client: client}
		})
	}
	// A user is kept only when found: FindUser answers by her id.
	readUser := func(query string, arg any) {
		h, user := userScan()
		read(query, arg, h, func() {
			u := user()
			pf.users[u.ID] = u
		})
	}
	for _, r := range p.SubjectsOf {
		if table, ok := prefetchTables[r.Kind]; ok {
			readUser(subjectQueries()[table], digest(r.Key))
		}
	}
	if session := p.BrowserSession; session != "" {
		now := utc(time.Now())
		var m browserSessionModel
		pf.sessions[session] = nil
		queue(browserSessionQuery(), []any{session, now}, scanModel(browserSessionColumns(), &m), func() {
			pf.sessions[session] = m.record()
			// The consent is read after the session: its "none" needs
			// the session's user, and its row replaces it when found.
			if p.ClientID != "" {
				pf.consents[consentKey(m.UserID, p.ClientID)] = nil
			}
		})
		readUser(sessionUserQuery(), session)
		if p.ClientID != "" {
			var c consentModel
			queue(sessionConsentQuery(), []any{session, p.ClientID, now}, scanModel(consentColumns(), &c), func() { pf.consents[consentKey(c.UserID, c.ClientID)] = c.record() })
		}
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

// scanModel scans the one row a query of a model's columns may return into
// model, and reports whether there was one.
func scanModel(cols columns, model any) func(pgx.Rows) (bool, error) {
	return func(rows pgx.Rows) (bool, error) {
		defer rows.Close()
		dst := cols.targets(nil, model)
		found := false
		for rows.Next() {
			if err := (wireRows{rows}).Scan(dst...); err != nil {
				return false, err
			}
			found = true
		}
		return found, rows.Err()
	}
}

// scanRows scans every row of rows into h.
func scanRows(rows pgx.Rows, h *holderScan) error {
	defer rows.Close()
	for rows.Next() {
		if err := h.row(wireRows{rows}); err != nil {
			return err
		}
	}
	return rows.Err()
}

// The reads of FindBrowserSession and FindConsent, with their filters, for
// the session a cookie names and her consent.
var (
	browserSessionColumns = sync.OnceValue(func() columns { return columnsOf(&browserSessionModel{}) })
	consentColumns        = sync.OnceValue(func() columns { return columnsOf(&consentModel{}) })
	browserSessionQuery   = sync.OnceValue(func() string {
		return "SELECT " + browserSessionColumns().list("browser_sessions", "") + " FROM browser_sessions WHERE " + browserSessionFilter
	})
	sessionConsentQuery = sync.OnceValue(func() string {
		return "SELECT " + consentColumns().list("consents", "") + " FROM consents WHERE " +
			consentFilterFor(sessionUserID)
	})
)
