package manage_test

import (
	"context"
	"testing"

	"github.com/gatehouse/gatehouse/server/credential"
	"github.com/gatehouse/gatehouse/server/manage"
	"github.com/gatehouse/gatehouse/server/secret"
	"github.com/gatehouse/gatehouse/storage/sqlstore"
	"github.com/gatehouse/gatehouse/storage/storagetest"
)

// fixture is a Service over a real, migrated database.
type fixture struct {
	svc       *manage.Service
	store     *sqlstore.Store
	passwords *credential.Passwords
	hasher    *credential.SecretHasher
}

// backends runs fn against SQLite and PostgreSQL.
func backends(t *testing.T, fn func(t *testing.T, f fixture)) {
	t.Helper()
	for _, b := range []struct {
		name string
		dsn  func(testing.TB) string
	}{
		{"sqlite", storagetest.SQLiteDSN},
		{"postgres", storagetest.PostgresDSN},
	} {
		t.Run(b.name, func(t *testing.T) { fn(t, newFixture(t, b.dsn(t))) })
	}
}

func newFixture(t testing.TB, dsn string) fixture {
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
	k, err := secret.NewKeyring([]byte("manage-test-secret-0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	// Cheap parameters: these tests check what is stored, not the cost.
	passwords := credential.NewPasswords(credential.PasswordParams{Memory: 64, Time: 1, Threads: 1}, 2, 0)
	hasher := credential.NewSecretHasher(k.Digester(secret.PurposeClientSecret))
	return fixture{svc: manage.New(store, passwords, hasher, nil), store: store, passwords: passwords, hasher: hasher}
}
