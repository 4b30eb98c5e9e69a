package sqlstore

import (
	"context"
	"fmt"
	"time"
)

// expiringTables are the tables DeleteExpired cleans, each by expires_at.
// Signing keys and users never expire; NULL expiries (consents, refresh
// tokens without a lifetime) never match.
var expiringTables = append([]string{
	"browser_sessions", "auth_requests", "consents", "client_assertion_jtis", "session_clients",
	"attempt_counters", "sign_in_events", "totp_enrollments",
}, requestTables...)

// cleanupBatch bounds the rows one DELETE removes, so that a large backlog
// never holds SQLite's write lock (or PostgreSQL row locks) for long.
const cleanupBatch = 1000

// cleanupLockKey is the PostgreSQL advisory lock key held while cleaning, so
// that one instance cleans at a time ("gatehouse" in ASCII, truncated).
const cleanupLockKey int64 = 0x67617465686f7573

// DeleteExpired removes every row whose expiry is before now, in batches of
// cleanupBatch rows per statement. On PostgreSQL it first takes an advisory
// lock and returns at once when another instance holds it. Used refresh
// tokens are kept until they expire: until then a reuse is still recognized.
func (s *Store) DeleteExpired(ctx context.Context, now time.Time) error {
	if s.dialect == DialectPostgres {
		conn, err := s.sqlDB.Conn(ctx)
		if err != nil {
			return classify("delete expired: lock connection", err)
		}
		defer conn.Close()
		var locked bool
		if err := conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock($1)", cleanupLockKey).Scan(&locked); err != nil {
			return classify("delete expired: advisory lock", err)
		}
		if !locked {
			s.log.DebugContext(ctx, "another instance is deleting expired rows")
			return nil
		}
		// Unlock even when ctx is done: the lock belongs to a pooled connection.
		defer func() {
			_, _ = conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", cleanupLockKey)
		}()
	}
	cutoff := utc(now)
	for _, table := range expiringTables {
		if err := s.deleteBefore(ctx, table, cutoff); err != nil {
			return err
		}
	}
	return s.deleteBefore(ctx, "mail_tokens", utc(now.Add(-mailTokenRetention)))
}

// deleteBefore deletes table's rows that expired before cutoff, one batch
// per statement (each its own transaction) until none is left.
func (s *Store) deleteBefore(ctx context.Context, table string, cutoff time.Time) error {
	// Row identity without knowing the key: rowid in SQLite, ctid in PostgreSQL.
	id := "rowid"
	if s.dialect == DialectPostgres {
		id = "ctid"
	}
	stmt := fmt.Sprintf("DELETE FROM %[1]s WHERE %[2]s IN (SELECT %[2]s FROM %[1]s WHERE expires_at < ? LIMIT %[3]d)",
		table, id, cleanupBatch)
	for {
		res := s.conn(ctx).Exec(stmt, cutoff)
		if res.Error != nil {
			return classify("delete expired "+table, res.Error)
		}
		if res.RowsAffected < cleanupBatch {
			return nil
		}
	}
}
