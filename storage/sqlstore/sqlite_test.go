package sqlstore

import (
	"errors"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/storage"
	"github.com/gatehouse/gatehouse/storage/storagetest"
)

// The connection parameters the package documentation promises are in
// effect.
func TestSQLitePragmas(t *testing.T) {
	s := openStore(t, storagetest.SQLiteDSN(t), Options{})
	for pragma, want := range map[string]string{
		"journal_mode": "wal", "foreign_keys": "1", "busy_timeout": "10000", "synchronous": "1",
	} {
		var got string
		if err := s.db.Raw("PRAGMA " + pragma).Scan(&got).Error; err != nil {
			t.Fatalf("PRAGMA %s: %v", pragma, err)
		}
		if got != want {
			t.Errorf("PRAGMA %s = %q, want %q", pragma, got, want)
		}
	}
}

// BeginTX takes SQLite's write lock at once (BEGIN IMMEDIATE), so that a
// second process never deadlocks upgrading a read lock: while one store
// holds a transaction, another store on the same file cannot write.
func TestSQLiteBeginTakesWriteLock(t *testing.T) {
	dsn := storagetest.SQLiteDSN(t)
	a := migratedStore(t, dsn)
	b := openStore(t, dsn, Options{BusyTimeout: 100 * time.Millisecond})

	tx, err := a.BeginTX(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	err = b.CreateClient(t.Context(), &storage.Client{ID: "blocked"})
	if !errors.Is(err, storage.ErrUnavailable) {
		t.Fatalf("write while another connection holds a transaction: want ErrUnavailable (busy), got %v", err)
	}
	if err := a.Rollback(tx); err != nil {
		t.Fatal(err)
	}
	if err := b.CreateClient(t.Context(), &storage.Client{ID: "after"}); err != nil {
		t.Fatalf("write after the transaction ended: %v", err)
	}
}
