package sqlstore

import (
	"database/sql"
	"encoding/binary"
	"reflect"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
)

// wireTargets makes a fresh target of every type the holder queries scan
// into.
var wireTargets = []func() any{
	func() any { return new(string) },
	func() any { return new(*string) },
	func() any { return new(sql.NullString) },
	func() any { return new(stringList) },
	func() any { return new(bool) },
	func() any { return new(sql.NullBool) },
	func() any { return new(time.Time) },
	func() any { return new(*time.Time) },
	func() any { return new([]byte) },
	func() any { return new(int64) },
}

// checkScanWire checks that whenever scanWire takes a value into a target,
// pgx's own plan takes it too, into an equal value.
func checkScanWire(t *testing.T, oid uint32, format int16, src []byte) {
	t.Helper()
	m := pgtype.NewMap()
	for _, target := range wireTargets {
		fast, slow := target(), target()
		if !scanWire(oid, format, src, fast) {
			continue
		}
		if err := m.Scan(oid, format, src, slow); err != nil {
			t.Fatalf("oid %d format %d %q into %T: scanWire took it, pgx says %v", oid, format, src, fast, err)
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("oid %d format %d %q into %T: scanWire %#v, pgx %#v", oid, format, src, fast, fast, slow)
		}
	}
}

func microsFromY2K(us int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(us)) }

func TestScanWireAgreesWithPgx(t *testing.T) {
	now := time.Now()
	nowUS := (now.Unix()-postgresEpoch)*1_000_000 + int64(now.Nanosecond()/1_000)
	cases := []struct {
		name   string
		oid    uint32
		format int16
		src    []byte
		// fast is a target scanWire must decode itself (so that the fast
		// path is known to be used, not only to agree), slow one it must
		// leave to pgx.
		fast, slow any
	}{
		{"text", pgtype.TextOID, pgtype.TextFormatCode, []byte("openid profile"), new(string), new(int64)},
		{"text binary", pgtype.TextOID, pgtype.BinaryFormatCode, []byte("é"), new(sql.NullString), nil},
		{"empty text", pgtype.VarcharOID, pgtype.TextFormatCode, []byte{}, new(*string), nil},
		{"null text", pgtype.TextOID, pgtype.TextFormatCode, nil, new(sql.NullString), new(string)},
		{"list", pgtype.TextOID, pgtype.TextFormatCode, []byte(`["openid","offline_access"]`), new(stringList), nil},
		{"escaped list", pgtype.TextOID, pgtype.TextFormatCode, []byte(`["a\"b","c"]`), new(stringList), nil},
		{"empty list", pgtype.TextOID, pgtype.TextFormatCode, []byte(`[]`), new(stringList), nil},
		{"null list", pgtype.TextOID, pgtype.TextFormatCode, nil, new(stringList), nil},
		{"not a list", pgtype.TextOID, pgtype.TextFormatCode, []byte(`{"a":1}`), new(string), new(stringList)},
		{"true", pgtype.BoolOID, pgtype.BinaryFormatCode, []byte{1}, new(bool), nil},
		{"false", pgtype.BoolOID, pgtype.BinaryFormatCode, []byte{0}, new(sql.NullBool), nil},
		{"null bool", pgtype.BoolOID, pgtype.BinaryFormatCode, nil, nil, new(bool)},
		{"text bool", pgtype.BoolOID, pgtype.TextFormatCode, []byte("t"), nil, new(bool)},
		{"now", pgtype.TimestamptzOID, pgtype.BinaryFormatCode, microsFromY2K(nowUS), new(time.Time), nil},
		{"before 2000", pgtype.TimestamptzOID, pgtype.BinaryFormatCode, microsFromY2K(-1_234_567_891), new(*time.Time), nil},
		{"year 1", pgtype.TimestamptzOID, pgtype.BinaryFormatCode, microsFromY2K(wireTimeMin), new(time.Time), nil},
		{"null time", pgtype.TimestamptzOID, pgtype.BinaryFormatCode, nil, new(*time.Time), new(time.Time)},
		{"infinity", pgtype.TimestamptzOID, pgtype.BinaryFormatCode, microsFromY2K(1<<63 - 1), nil, new(time.Time)},
		{"-infinity", pgtype.TimestamptzOID, pgtype.BinaryFormatCode, microsFromY2K(-1 << 63), nil, new(*time.Time)},
		{"short time", pgtype.TimestamptzOID, pgtype.BinaryFormatCode, []byte{1, 2, 3}, nil, new(time.Time)},
		{"text time", pgtype.TimestamptzOID, pgtype.TextFormatCode, []byte("2026-12-08 01:00:00+00"), nil, new(time.Time)},
		{"bytes", pgtype.ByteaOID, pgtype.BinaryFormatCode, []byte{0, 1, 2}, new([]byte), new(string)},
		{"empty bytes", pgtype.ByteaOID, pgtype.BinaryFormatCode, []byte{}, new([]byte), nil},
		{"null bytes", pgtype.ByteaOID, pgtype.BinaryFormatCode, nil, new([]byte), nil},
		{"int", pgtype.Int8OID, pgtype.BinaryFormatCode, microsFromY2K(7), nil, new(int64)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			checkScanWire(t, tc.oid, tc.format, tc.src)
			if tc.fast != nil && !scanWire(tc.oid, tc.format, tc.src, tc.fast) {
				t.Fatalf("scanWire left %T to pgx", tc.fast)
			}
			if tc.slow != nil && scanWire(tc.oid, tc.format, tc.src, tc.slow) {
				t.Fatalf("scanWire took %q into %T, which pgx should decide", tc.src, tc.slow)
			}
		})
	}
}

func FuzzScanWire(f *testing.F) {
	f.Add(uint8(0), true, []byte(`["a","b"]`))
	f.Add(uint8(1), true, []byte{1})
	f.Add(uint8(2), true, microsFromY2K(0))
	f.Add(uint8(3), true, []byte{0xff})
	f.Add(uint8(2), false, []byte("2000-01-01"))
	oids := []uint32{pgtype.TextOID, pgtype.BoolOID, pgtype.TimestamptzOID, pgtype.ByteaOID, pgtype.VarcharOID}
	f.Fuzz(func(t *testing.T, kind uint8, binaryFormat bool, src []byte) {
		format := int16(pgtype.TextFormatCode)
		if binaryFormat {
			format = pgtype.BinaryFormatCode
		}
		checkScanWire(t, oids[int(kind)%len(oids)], format, src)
		checkScanWire(t, oids[int(kind)%len(oids)], format, nil)
	})
}
