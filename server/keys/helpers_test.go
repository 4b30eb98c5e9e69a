package keys

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/server/secret"
	"github.com/gatehouse/gatehouse/storage"
	"github.com/gatehouse/gatehouse/storage/sqlstore"
	"github.com/gatehouse/gatehouse/storage/storagetest"
)

// clock is a settable clock shared by the managers of a test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock {
	return &clock{t: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (c *clock) Advance(d time.Duration) { c.Set(c.Now().Add(d)) }

const testSecret = "keys-test-system-secret-0123456789abcdef"

// openStore opens a migrated SQLite store in a fresh directory, returned too
// so tests can look at the database files.
func openStore(t *testing.T) (storage.Store, string) {
	t.Helper()
	dir := t.TempDir()
	return openDSN(t, "sqlite:///"+filepath.Join(dir, "k.db")), dir
}

func openDSN(t *testing.T, dsn string) storage.Store {
	t.Helper()
	ctx := context.Background()
	store, err := sqlstore.Open(ctx, dsn, sqlstore.Options{})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { store.Close() })
	if _, err := store.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return store
}

// forEachBackend runs fn on SQLite and on PostgreSQL (skipped, loudly, when
// none is available), for the tests where several instances share a database.
func forEachBackend(t *testing.T, fn func(t *testing.T, store storage.Store)) {
	backends := []struct {
		name string
		dsn  func(testing.TB) string
	}{
		{"sqlite", storagetest.SQLiteDSN},
		{"postgres", storagetest.PostgresDSN},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { fn(t, openDSN(t, b.dsn(t))) })
	}
}

func newManager(t *testing.T, store storage.SigningKeys, clk *clock) *Manager {
	t.Helper()
	kr, err := secret.NewKeyring([]byte(testSecret))
	if err != nil {
		t.Fatal(err)
	}
	return NewManager(Config{
		Store:  store,
		Sealer: kr.AEAD(secret.PurposeAtRest),
		Now:    clk.Now,
	})
}

func mustActive(t *testing.T, m *Manager, alg string) string {
	t.Helper()
	kid, err := m.ActiveKID(alg)
	if err != nil {
		t.Fatalf("ActiveKID(%s): %v", alg, err)
	}
	return kid
}

func jwksKIDs(m *Manager) map[string]string {
	out := map[string]string{}
	for _, k := range m.JWKS().Keys {
		out[k.KeyID] = k.Algorithm
	}
	return out
}
