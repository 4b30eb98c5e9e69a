package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/gorm"
)

// pgTx is a transaction on PostgreSQL that spends as few round trips as it
// can. BEGIN is not sent on its own but with the transaction's first
// statement; a write whose outcome no caller looks at (a token row
// inserted, rows deleted by key) waits and goes with the next statement or
// with the COMMIT, pipelined. A transaction that only made such writes
// sends them without BEGIN and COMMIT: PostgreSQL runs the statements of
// one pipeline as one transaction and commits it at its end, durably, before
// Commit returns. A write that fails makes the statement or the commit it
// went with fail, with the write's own error.
//
// One request uses a pgTx at a time, as it would a *sql.Tx.
type pgTx struct {
	store   *Store
	conn    *sql.Conn // taken from the pool at the first statement
	gorm    *gorm.DB  // GORM on conn
	begun   bool      // the server has an open transaction block
	pending []pgWrite
	done    bool
}

// pgWrite is a statement waiting to be sent.
type pgWrite struct {
	op, query string // query is already in PostgreSQL's placeholders
	args      []any
}

// errTxDone is returned for a statement on a transaction that has ended.
var errTxDone = errors.New("the transaction has already been committed or rolled back")

// db returns GORM on the transaction's connection with every waiting write
// sent, for a statement whose rows or outcome the caller needs.
func (t *pgTx) db(ctx context.Context) (*gorm.DB, error) {
	if !t.begun || len(t.pending) > 0 {
		if _, err := t.send(ctx, nil, false); err != nil {
			return nil, err
		}
	}
	return t.gorm.WithContext(ctx), nil
}

// later queues a write for the next round trip.
func (t *pgTx) later(w pgWrite) error {
	if t.done {
		return fmt.Errorf("%s: %w", w.op, errTxDone)
	}
	t.pending = append(t.pending, w)
	return nil
}

// exec runs a write whose affected rows the caller needs, in one round trip
// with BEGIN (if not sent yet) and the waiting writes.
func (t *pgTx) exec(ctx context.Context, w pgWrite) (int64, error) {
	return t.send(ctx, &w, false)
}

// commit sends the waiting writes and ends the transaction, in one round
// trip, and gives the connection back to the pool.
func (t *pgTx) commit(ctx context.Context) error {
	if t.done {
		return fmt.Errorf("commit: %w", errTxDone)
	}
	defer t.release()
	if t.conn == nil && len(t.pending) == 0 {
		return nil // nothing was read or written
	}
	_, err := t.send(ctx, nil, true)
	return err
}

// rollback drops the waiting writes and ends the transaction; rolling back
// a transaction that has ended is a no-op.
func (t *pgTx) rollback(ctx context.Context) error {
	if t.done {
		return nil
	}
	defer t.release()
	t.pending = nil
	if !t.begun {
		return nil
	}
	t.begun = false
	if _, err := t.conn.ExecContext(ctx, "ROLLBACK"); err != nil {
		return classify("rollback", err)
	}
	return nil
}

// release gives the connection back to the pool; database/sql discards it
// if a transaction is still open on it (pgx checks when the pool takes it
// back).
func (t *pgTx) release() {
	t.done = true
	t.pending = nil
	if t.conn != nil {
		_ = t.conn.Close()
		t.conn = nil
	}
}

// send sends, in one pipeline: BEGIN unless a transaction block is open or
// this is the commit of a transaction that never began, the waiting
// writes, last, and COMMIT if committing an open block. It returns the rows
// last affected.
func (t *pgTx) send(ctx context.Context, last *pgWrite, commit bool) (int64, error) {
	if t.done {
		return 0, errTxDone
	}
	if t.conn == nil {
		conn, err := t.store.sqlDB.Conn(ctx)
		if err != nil {
			return 0, classify("begin transaction", err)
		}
		t.conn = conn
		// With a context, Session gives a Statement of its own (as GORM's
		// Begin does); without one it would share, and rebind, the pool's.
		t.gorm = t.store.db.Session(&gorm.Session{NewDB: true, Context: ctx})
		t.gorm.Statement.ConnPool = conn
	}
	writes := t.pending
	t.pending = nil
	if last != nil {
		writes = append(writes, *last)
	}
	var batch pgx.Batch
	begin := !t.begun && !commit
	if begin {
		batch.Queue("BEGIN")
	}
	for _, w := range writes {
		batch.Queue(w.query, w.args...)
	}
	end := commit && t.begun
	if end {
		batch.Queue("COMMIT")
	}
	if batch.Len() == 0 {
		return 0, nil
	}

	var n int64
	start := time.Now()
	err := onPgx(t.conn, func(conn *pgx.Conn) error {
		results := conn.SendBatch(ctx, &batch)
		var err error
		n, err = readResults(results, begin, writes, end)
		if cerr := results.Close(); err == nil && cerr != nil {
			err = classify("commit", cerr)
		}
		t.begun = conn.PgConn().TxStatus() != 'I'
		return err
	})
	// A slow pipeline is logged once, with its statements.
	t.store.db.Logger.Trace(ctx, start, func() (string, int64) {
		queries := make([]string, len(writes))
		for i, w := range writes {
			queries[i] = w.query
		}
		return strings.Join(queries, "; "), -1
	}, err)
	return n, err
}

// readResults reads a pipeline's results in order and returns the rows the
// last write affected, or the first error, named by the statement that
// failed.
func readResults(results pgx.BatchResults, begin bool, writes []pgWrite, end bool) (int64, error) {
	if begin {
		if _, err := results.Exec(); err != nil {
			return 0, classify("begin transaction", err)
		}
	}
	var n int64
	for _, w := range writes {
		tag, err := results.Exec()
		if err != nil {
			return 0, classify(w.op, err)
		}
		n = tag.RowsAffected()
	}
	if end {
		tag, err := results.Exec()
		if err != nil {
			return 0, classify("commit", err)
		}
		// COMMIT of a block in which a statement failed rolls back.
		if tag.String() != "COMMIT" {
			return 0, errors.New("commit: the transaction was rolled back after an error")
		}
	}
	return n, nil
}

// onPgx runs fn on the pgx connection behind conn: pipelines are pgx's,
// database/sql has none.
func onPgx(conn *sql.Conn, fn func(*pgx.Conn) error) error {
	return conn.Raw(func(driverConn any) error {
		c, ok := driverConn.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("the PostgreSQL driver's connection is a %T, not pgx's", driverConn)
		}
		return fn(c.Conn())
	})
}
