package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/glebarez/sqlite"
	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/gatehouse/gatehouse/storage"
)

// Dialect names returned by Store.Dialect.
const (
	DialectSQLite   = "sqlite"
	DialectPostgres = "postgres"
)

// Options tunes a Store. The zero value is usable.
type Options struct {
	// Logger receives slow-query warnings and migration notes (SQL text
	// only, never parameter values). Nil discards them.
	Logger *slog.Logger
	// SlowQuery is the duration above which a query is logged at warn
	// level; default 500ms.
	SlowQuery time.Duration
	// MaxOpenConns bounds the PostgreSQL pool; default 20. SQLite always
	// uses one connection.
	MaxOpenConns int
	// BusyTimeout is how long a SQLite write waits for another process
	// (the CLI) to release the database; default 10s.
	BusyTimeout time.Duration
	// RefreshGracePeriod lets a rotated refresh token be used again for
	// this long (several browser tabs refreshing at once). Zero, the
	// default, means a second use is always treated as reuse.
	RefreshGracePeriod time.Duration
	// Now is the clock of the grace period; nil means time.Now.
	Now func() time.Time
}

// Store implements storage.Store on GORM.
type Store struct {
	db      *gorm.DB
	sqlDB   *sql.DB
	dialect string
	log     *slog.Logger
	grace   time.Duration
	now     func() time.Time
	// bound holds the statements run with database/sql (written with ?)
	// in PostgreSQL's numbered form, each numbered once.
	bound sync.Map
}

var _ storage.Store = (*Store)(nil)

// sqliteParams are the driver parameters of the store's one connection.
// busy_timeout comes first so that switching to WAL waits for other
// processes (the CLI) instead of failing; _txlock=immediate takes the write
// lock at BEGIN, so two processes never deadlock upgrading a read lock.
func sqliteParams(busy time.Duration) string {
	return fmt.Sprintf("_pragma=busy_timeout(%d)&_pragma=journal_mode(WAL)"+
		"&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate", busy.Milliseconds())
}

// Open connects to the database named by dsn (see the package documentation)
// and checks that it answers. It does not migrate.
func Open(ctx context.Context, dsn string, opts Options) (*Store, error) {
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	slow := opts.SlowQuery
	if slow <= 0 {
		slow = 500 * time.Millisecond
	}

	var dialect string
	var dialector gorm.Dialector
	switch {
	case strings.HasPrefix(dsn, "sqlite://"):
		path := strings.TrimPrefix(dsn, "sqlite://")
		if path == "" || path == ":memory:" || strings.ContainsAny(path, "?#") {
			return nil, errors.New("open database: a sqlite:// DSN must name a database file and carry no parameters")
		}
		busy := opts.BusyTimeout
		if busy <= 0 {
			busy = 10 * time.Second
		}
		dialect, dialector = DialectSQLite, sqlite.Open(path+"?"+sqliteParams(busy))
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		dialect, dialector = DialectPostgres, postgres.Open(dsn)
	default:
		return nil, errors.New("open database: the DSN must start with sqlite:// or postgres://")
	}

	db, err := gorm.Open(dialector, &gorm.Config{
		Logger:                 gormLogger{log: logger, slow: slow},
		SkipDefaultTransaction: true,
		DisableAutomaticPing:   true,
		NowFunc:                func() time.Time { return utc(time.Now()) },
	})
	if err != nil {
		var parseErr *pgconn.ParseConfigError
		if errors.As(err, &parseErr) {
			// Its text may hold the password of a malformed DSN.
			return nil, errors.New("open postgres database: the DSN cannot be parsed")
		}
		return nil, classify("open "+dialect+" database", err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", dialect, err)
	}
	if dialect == DialectSQLite {
		sqlDB.SetMaxOpenConns(1)
		sqlDB.SetMaxIdleConns(1)
		sqlDB.SetConnMaxLifetime(0)
		sqlDB.SetConnMaxIdleTime(0)
	} else {
		n := opts.MaxOpenConns
		if n <= 0 {
			n = 20
		}
		// Every open connection may stay idle: under bursts a smaller idle
		// pool closes connections only to open them again (a new PostgreSQL
		// backend each time).
		sqlDB.SetMaxOpenConns(n)
		sqlDB.SetMaxIdleConns(n)
		sqlDB.SetConnMaxLifetime(30 * time.Minute)
		sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	s := &Store{db: db, sqlDB: sqlDB, dialect: dialect, log: logger, grace: opts.RefreshGracePeriod, now: now}
	if err := s.Ping(ctx); err != nil {
		_ = sqlDB.Close()
		return nil, err
	}
	return s, nil
}

// Dialect returns DialectSQLite or DialectPostgres.
func (s *Store) Dialect() string { return s.dialect }

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.sqlDB.PingContext(ctx); err != nil {
		return classify("ping database", err)
	}
	return nil
}

// Close closes the connection pool.
func (s *Store) Close() error { return s.sqlDB.Close() }

// txKey carries the transaction open in a context: a *gorm.DB on SQLite,
// a *pgTx on PostgreSQL.
type txKey struct{}

func inOpenTx(ctx context.Context) bool { return ctx.Value(txKey{}) != nil }

// conn returns the transaction carried by ctx, else the pool. Every query
// goes through it: with one SQLite connection, a query that bypassed an open
// transaction would wait for that transaction forever. On PostgreSQL the
// transaction's waiting writes are sent first, so that the query sees them.
func (s *Store) conn(ctx context.Context) *gorm.DB {
	switch tx := ctx.Value(txKey{}).(type) {
	case *gorm.DB:
		return tx.WithContext(ctx)
	case *pgTx:
		db, err := tx.db(ctx)
		if err != nil {
			db = s.db.WithContext(ctx)
			_ = db.AddError(err)
		}
		return db
	}
	return s.db.WithContext(ctx)
}

// BeginTX starts a transaction and returns a context carrying it. Nested
// transactions are refused. On PostgreSQL nothing is sent yet (see pgTx).
func (s *Store) BeginTX(ctx context.Context) (context.Context, error) {
	if inOpenTx(ctx) {
		return ctx, errors.New("begin transaction: a transaction is already open in this context")
	}
	if s.dialect == DialectPostgres {
		return context.WithValue(ctx, txKey{}, &pgTx{store: s}), nil
	}
	tx := s.db.WithContext(ctx).Begin()
	if tx.Error != nil {
		return ctx, classify("begin transaction", tx.Error)
	}
	return context.WithValue(ctx, txKey{}, tx), nil
}

// Commit commits the transaction carried by ctx.
func (s *Store) Commit(ctx context.Context) error {
	switch tx := ctx.Value(txKey{}).(type) {
	case *gorm.DB:
		if err := tx.Commit().Error; err != nil {
			return classify("commit", err)
		}
		return nil
	case *pgTx:
		return tx.commit(ctx)
	}
	return errors.New("commit: no transaction in context")
}

// Rollback rolls back the transaction carried by ctx. Rolling back a
// transaction that already ended is a no-op, so callers may defer it.
func (s *Store) Rollback(ctx context.Context) error {
	switch tx := ctx.Value(txKey{}).(type) {
	case *gorm.DB:
		if err := tx.Rollback().Error; err != nil && !errors.Is(err, sql.ErrTxDone) {
			return classify("rollback", err)
		}
		return nil
	case *pgTx:
		return tx.rollback(ctx)
	}
	return errors.New("rollback: no transaction in context")
}

// inTx runs fn in the transaction carried by ctx, or in a new one that is
// committed when fn succeeds and rolled back when it fails.
func (s *Store) inTx(ctx context.Context, fn func(ctx context.Context) error) error {
	if inOpenTx(ctx) {
		return fn(ctx)
	}
	return storage.InTx(ctx, s, fn)
}

// forUpdate locks the rows a read-modify-write loads. On SQLite the
// transaction already holds the database's write lock (BEGIN IMMEDIATE).
func (s *Store) forUpdate(db *gorm.DB) *gorm.DB {
	if s.dialect == DialectPostgres {
		return db.Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate})
	}
	return db
}

// utc is the one form in which times are written: UTC, microseconds, which
// both dialects round-trip exactly.
func utc(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }
