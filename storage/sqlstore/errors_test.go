package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"net"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/ory/fosite"
	"gorm.io/gorm"

	"github.com/gatehouse/gatehouse/storage"
)

// sqliteErr stands in for the SQLite driver's error type, which exposes its
// result code the same way.
type sqliteErr int

func (e sqliteErr) Error() string { return fmt.Sprintf("sqlite error %d", int(e)) }
func (e sqliteErr) Code() int     { return int(e) }

func TestClassify(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want error // nil: none of the sentinels
	}{
		{"record not found", gorm.ErrRecordNotFound, storage.ErrNotFound},
		{"postgres unique violation", &pgconn.PgError{Code: "23505"}, storage.ErrAlreadyExists},
		{"sqlite unique violation", sqliteErr(sqliteConstraintUnique), storage.ErrAlreadyExists},
		{"sqlite primary key violation", sqliteErr(sqliteConstraintPrimaryKey), storage.ErrAlreadyExists},
		{"sqlite busy", sqliteErr(sqliteBusy), storage.ErrUnavailable},
		{"sqlite cannot open", sqliteErr(sqliteCantOpen), storage.ErrUnavailable},
		{"sqlite foreign key violation", sqliteErr(787), nil},
		{"postgres admin shutdown", &pgconn.PgError{Code: "57P01"}, storage.ErrUnavailable},
		{"postgres connection failure", &pgconn.PgError{Code: "08006"}, storage.ErrUnavailable},
		{"postgres too many connections", &pgconn.PgError{Code: "53300"}, storage.ErrUnavailable},
		{"postgres syntax error", &pgconn.PgError{Code: "42601"}, nil},
		{"connection refused", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}, storage.ErrUnavailable},
		{"closed pool", errors.New("sql: database is closed"), storage.ErrUnavailable},
		{"deadline", context.DeadlineExceeded, storage.ErrUnavailable},
		{"canceled by the client", context.Canceled, nil},
		{"other", errors.New("boom"), nil},
	}
	sentinels := []error{storage.ErrNotFound, storage.ErrAlreadyExists, storage.ErrUnavailable}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := classify("op", fmt.Errorf("driver: %w", tc.err))
			for _, s := range sentinels {
				if errors.Is(got, s) != (s == tc.want) {
					t.Errorf("errors.Is(%v, %v) = %v", got, s, !(s == tc.want))
				}
			}
			if !errors.Is(got, tc.err) && tc.want != storage.ErrNotFound {
				t.Errorf("the driver error is lost from the chain: %v", got)
			}
		})
	}
	if !errors.Is(classify("op", gorm.ErrRecordNotFound), fosite.ErrNotFound) {
		t.Error("not found does not match fosite.ErrNotFound")
	}
	if classify("op", nil) != nil {
		t.Error("classify(nil) is not nil")
	}
}
