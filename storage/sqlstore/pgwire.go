package sqlstore

import (
	"database/sql"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// wireRows scans the prefetch's rows straight from PostgreSQL's wire
// values for the few column and target types of the holder queries. pgx's
// own Scan plans every column of every query anew, with several
// allocations each (about 40 columns a holder row): a tenth of
// introspection's CPU. Any other column, and any value the fast path does
// not take (NULL into a non-nullable target, an infinite timestamp), goes
// through pgx's plan, so the result and the errors are pgx's.
type wireRows struct{ pgx.Rows }

func (r wireRows) Scan(dst ...any) error {
	values := r.RawValues()
	fields := r.FieldDescriptions()
	if len(values) != len(dst) {
		return fmt.Errorf("number of field descriptions must equal number of destinations, got %d and %d", len(values), len(dst))
	}
	for i, src := range values {
		f := fields[i]
		if scanWire(f.DataTypeOID, f.Format, src, dst[i]) {
			continue
		}
		if err := r.Conn().TypeMap().Scan(f.DataTypeOID, f.Format, src, dst[i]); err != nil {
			return fmt.Errorf("can't scan into dest[%d] (col: %s): %w", i, f.Name, err)
		}
	}
	return nil
}

// scanWire decodes src, a value of type oid in format, into dst when it is
// one of the cases it knows, exactly as pgx would, and reports whether it
// did.
func scanWire(oid uint32, format int16, src []byte, dst any) bool {
	switch oid {
	case pgtype.TextOID, pgtype.VarcharOID:
		// Text is the same in both formats.
		return scanText(src, dst)
	case pgtype.BoolOID:
		return format == pgtype.BinaryFormatCode && scanBool(src, dst)
	case pgtype.TimestamptzOID:
		return format == pgtype.BinaryFormatCode && scanTimestamptz(src, dst)
	case pgtype.ByteaOID:
		if d, ok := dst.(*[]byte); ok && format == pgtype.BinaryFormatCode {
			if src == nil {
				*d = nil
			} else {
				*d = append(make([]byte, 0, len(src)), src...)
			}
			return true
		}
	}
	return false
}

func scanText(src []byte, dst any) bool {
	switch d := dst.(type) {
	case *string:
		if src == nil {
			return false
		}
		*d = string(src)
	case **string:
		if src == nil {
			*d = nil
		} else {
			s := string(src)
			*d = &s
		}
	case *sql.NullString:
		if src == nil {
			*d = sql.NullString{}
		} else {
			*d = sql.NullString{String: string(src), Valid: true}
		}
	case *stringList:
		// As stringList.Scan, but without first copying src into a string.
		if src == nil {
			*d = nil
			return true
		}
		l, err := decodeStringList(src)
		if err != nil {
			return false
		}
		*d = l
	default:
		return false
	}
	return true
}

func scanBool(src []byte, dst any) bool {
	if len(src) != 1 {
		return false
	}
	switch d := dst.(type) {
	case *bool:
		*d = src[0] == 1
	case *sql.NullBool:
		*d = sql.NullBool{Bool: src[0] == 1, Valid: true}
	default:
		return false
	}
	return true
}

// The finite timestamps the fast path decodes, in microseconds from
// 2000-01-01 (PostgreSQL's epoch): years 1 to 9999. pgx decides the rest
// (infinity, out of range).
var (
	postgresEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	wireTimeMin   = (time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC).Unix() - postgresEpoch) * 1_000_000
	wireTimeMax   = (time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC).Unix() - postgresEpoch) * 1_000_000
)

func scanTimestamptz(src []byte, dst any) bool {
	var t time.Time
	if src != nil {
		if len(src) != 8 {
			return false
		}
		us := int64(binary.BigEndian.Uint64(src))
		if us < wireTimeMin || us > wireTimeMax {
			return false
		}
		// As pgx: the instant in the local time zone.
		t = time.Unix(postgresEpoch+us/1_000_000, us%1_000_000*1_000)
	}
	switch d := dst.(type) {
	case *time.Time:
		if src == nil {
			return false
		}
		*d = t
	case **time.Time:
		if src == nil {
			*d = nil
		} else {
			*d = &t
		}
	default:
		return false
	}
	return true
}
