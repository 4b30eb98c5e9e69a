// Package sqlstoretest gives other packages' tests and benchmarks a real,
// migrated store. (storagetest cannot: sqlstore's own tests import it.)
package sqlstoretest

import (
	"context"
	"testing"

	"github.com/gatehouse/gatehouse/storage/sqlstore"
	"github.com/gatehouse/gatehouse/storage/storagetest"
)

// Open opens a migrated store on dsn, closed when tb ends.
func Open(tb testing.TB, dsn string, opts sqlstore.Options) *sqlstore.Store {
	tb.Helper()
	ctx := context.Background()
	store, err := sqlstore.Open(ctx, dsn, opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = store.Close() })
	if _, err := store.Migrate(ctx); err != nil {
		tb.Fatal(err)
	}
	return store
}

// SQLite opens a migrated store on a fresh SQLite file in tb's temporary
// directory, closed when tb ends.
func SQLite(tb testing.TB, opts sqlstore.Options) *sqlstore.Store {
	tb.Helper()
	return Open(tb, storagetest.SQLiteDSN(tb), opts)
}
