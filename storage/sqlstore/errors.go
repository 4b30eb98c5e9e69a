package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/ory/fosite"
	"gorm.io/gorm"

	"github.com/gatehouse/gatehouse/storage"
)

// notFound is what every lookup of a missing row returns: it matches
// storage.ErrNotFound for our callers and fosite.ErrNotFound for fosite,
// which branches on it (invalid_grant rather than server_error).
func notFound(what string) error {
	return fmt.Errorf("%s: %w: %w", what, storage.ErrNotFound, fosite.ErrNotFound)
}

// classify wraps a database error with op and maps it to the storage
// sentinels callers test with errors.Is.
func classify(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, gorm.ErrRecordNotFound):
		return notFound(op)
	case isUniqueViolation(err):
		return fmt.Errorf("%s: %w: %w", op, storage.ErrAlreadyExists, err)
	case isUnavailable(err):
		return fmt.Errorf("%s: %w: %w", op, storage.ErrUnavailable, err)
	default:
		return fmt.Errorf("%s: %w", op, err)
	}
}

// SQLite result codes (https://www.sqlite.org/rescode.html).
const (
	sqliteBusy                 = 5
	sqliteLocked               = 6
	sqliteCantOpen             = 14
	sqliteConstraintPrimaryKey = 1555
	sqliteConstraintUnique     = 2067
)

// sqliteCode returns the result code of a SQLite driver error.
func sqliteCode(err error) (int, bool) {
	var coded interface{ Code() int }
	if errors.As(err, &coded) {
		return coded.Code(), true
	}
	return 0, false
}

// sqlState returns the SQLSTATE of a PostgreSQL server error.
func sqlState(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return ""
}

func isUniqueViolation(err error) bool {
	if code, ok := sqliteCode(err); ok {
		return code == sqliteConstraintUnique || code == sqliteConstraintPrimaryKey
	}
	return sqlState(err) == "23505"
}

// isUnavailable reports errors that mean "the database cannot be reached or
// is shutting down" rather than "this query is wrong": callers answer 503
// and may retry.
func isUnavailable(err error) bool {
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	switch {
	case errors.As(err, &connectErr),
		errors.As(err, &netErr),
		errors.Is(err, driver.ErrBadConn),
		errors.Is(err, sql.ErrConnDone),
		errors.Is(err, pgconn.ErrConnClosed),
		errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE),
		pgconn.Timeout(err),
		// database/sql does not export the error of a closed *sql.DB.
		strings.Contains(err.Error(), "sql: database is closed"):
		return true
	case errors.Is(err, context.DeadlineExceeded):
		// A deadline that ran out while waiting for a pooled connection or
		// for a lock is the database being too slow to answer.
		return true
	}
	if code, ok := sqliteCode(err); ok {
		switch code & 0xff {
		case sqliteBusy, sqliteLocked, sqliteCantOpen:
			return true
		}
	}
	state := sqlState(err)
	// Class 08: connection exception; 57P01-57P03: the server is shutting
	// down or starting; 53300: too many connections.
	return strings.HasPrefix(state, "08") || state == "57P01" || state == "57P02" ||
		state == "57P03" || state == "53300"
}
