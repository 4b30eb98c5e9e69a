package sqlstore

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ory/fosite"

	"github.com/gatehouse/gatehouse/migrations"
	"github.com/gatehouse/gatehouse/storage"
	"github.com/gatehouse/gatehouse/storage/storagetest"
)

// dialects names the DSN helper of each dialect.
var dialects = []struct {
	name string
	dsn  func(testing.TB) string
}{
	{DialectSQLite, storagetest.SQLiteDSN},
	{DialectPostgres, storagetest.PostgresDSN},
}

// openStore opens dsn, closing the store when t ends.
func openStore(t testing.TB, dsn string, opts Options) *Store {
	t.Helper()
	s, err := Open(t.Context(), dsn, opts)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// migratedStore opens and migrates a store on dsn.
func migratedStore(t testing.TB, dsn string) *Store {
	t.Helper()
	s := openStore(t, dsn, Options{})
	if _, err := s.Migrate(t.Context()); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return s
}

func TestConformance(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			storagetest.Run(t, func(t *testing.T) storage.Store { return migratedStore(t, d.dsn(t)) })
		})
	}
}

// latestVersion is the highest migration version shipped for a dialect.
func latestVersion(t *testing.T, dialect string) int64 {
	t.Helper()
	fsys, err := migrations.FS(dialect)
	if err != nil {
		t.Fatal(err)
	}
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil || len(names) == 0 {
		t.Fatalf("no migrations for %s: %v", dialect, err)
	}
	prefix, _, _ := strings.Cut(names[len(names)-1], "_")
	v, err := strconv.ParseInt(prefix, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// Migrating reaches the latest version, reports nothing pending, and a
// second run is harmless.
func TestMigrate(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			ctx := t.Context()
			s := openStore(t, d.dsn(t), Options{})
			if s.Dialect() != d.name {
				t.Fatalf("Dialect() = %q, want %q", s.Dialect(), d.name)
			}
			if v, err := s.MigrationVersion(ctx); err != nil || v != 0 {
				t.Fatalf("version of an empty database: %d, %v", v, err)
			}
			if pending, err := s.PendingMigrations(ctx); err != nil || !pending {
				t.Fatalf("pending on an empty database: %v, %v", pending, err)
			}
			want := latestVersion(t, d.name)
			for i := range 2 {
				v, err := s.Migrate(ctx)
				if err != nil || v != want {
					t.Fatalf("migration %d: version %d, %v; want %d", i+1, v, err, want)
				}
			}
			if pending, err := s.PendingMigrations(ctx); err != nil || pending {
				t.Fatalf("pending after migrating: %v, %v", pending, err)
			}
		})
	}
}

// Several instances starting at once against one PostgreSQL database all
// migrate successfully: the advisory lock serializes them.
func TestConcurrentMigratePostgres(t *testing.T) {
	dsn := storagetest.PostgresDSN(t)
	const n = 3
	stores := make([]*Store, n)
	for i := range stores {
		stores[i] = openStore(t, dsn, Options{})
	}
	versions, errs := make([]int64, n), make([]error, n)
	var wg sync.WaitGroup
	for i, s := range stores {
		wg.Go(func() { versions[i], errs[i] = s.Migrate(t.Context()) })
	}
	wg.Wait()
	want := latestVersion(t, DialectPostgres)
	for i := range n {
		if errs[i] != nil || versions[i] != want {
			t.Errorf("instance %d: version %d, %v; want %d", i, versions[i], errs[i], want)
		}
	}
}

func TestOpenRefusesBadDSNs(t *testing.T) {
	for _, dsn := range []string{
		"", "mysql://x", "sqlite://", "sqlite://:memory:", "sqlite:///tmp/x.db?_pragma=foreign_keys(0)",
		"/tmp/gatehouse.db", "postgres://user:pw@[bad",
	} {
		if s, err := Open(t.Context(), dsn, Options{}); err == nil {
			_ = s.Close()
			t.Errorf("Open(%q) succeeded", dsn)
		} else if strings.Contains(err.Error(), "pw") {
			t.Errorf("Open(%q) error reveals the password: %v", dsn, err)
		}
	}
}

// A database that cannot be reached is storage.ErrUnavailable, so that
// handlers answer 503.
func TestUnavailable(t *testing.T) {
	// A port on which nothing listens.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if _, err := Open(ctx, "postgres://postgres@"+addr+"/x?sslmode=disable&connect_timeout=5", Options{}); !errors.Is(err, storage.ErrUnavailable) {
		t.Errorf("open on a closed port: want ErrUnavailable, got %v", err)
	}

	for _, d := range dialects {
		t.Run(d.name+"/closed", func(t *testing.T) {
			s := migratedStore(t, d.dsn(t))
			_ = s.Close()
			if _, err := s.FindClient(t.Context(), "x"); !errors.Is(err, storage.ErrUnavailable) {
				t.Errorf("query on a closed store: want ErrUnavailable, got %v", err)
			}
			if err := s.Ping(t.Context()); !errors.Is(err, storage.ErrUnavailable) {
				t.Errorf("ping on a closed store: want ErrUnavailable, got %v", err)
			}
		})
	}
}

// Every key derived from a code, token or jti is stored as its digest,
// including the raw authorization code fosite passes for the OpenID Connect
// session.
func TestKeysAreDigests(t *testing.T) {
	s := migratedStore(t, storagetest.SQLiteDSN(t))
	ctx := t.Context()
	client := &storage.Client{ID: "app"}
	if err := s.CreateClient(ctx, client); err != nil {
		t.Fatal(err)
	}
	req := fosite.NewRequest()
	req.ID, req.Client = "req-1", client
	keys := map[string]string{
		tableAuthorizeCodes: "code-signature",
		tableAccessTokens:   "access-signature",
		tableRefreshTokens:  "refresh-signature",
		tableOIDCSessions:   "raw-code.code-signature",
		tablePKCERequests:   "pkce-signature",
	}
	for table, key := range keys {
		var err error
		switch table {
		case tableAuthorizeCodes:
			err = s.CreateAuthorizeCodeSession(ctx, key, req)
		case tableAccessTokens:
			err = s.CreateAccessTokenSession(ctx, key, req)
		case tableRefreshTokens:
			err = s.CreateRefreshTokenSession(ctx, key, "access-signature", req)
		case tableOIDCSessions:
			err = s.CreateOpenIDConnectSession(ctx, key, req)
		case tablePKCERequests:
			err = s.CreatePKCERequestSession(ctx, key, req)
		}
		if err != nil {
			t.Fatalf("%s: %v", table, err)
		}
	}
	if err := s.SetClientAssertionJWT(ctx, "jti-1", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	keys["client_assertion_jtis"] = "jti-1"
	for table, key := range keys {
		column := "signature"
		if table == "client_assertion_jtis" {
			column = "jti_digest"
		}
		var stored []string
		if err := s.db.Table(table).Pluck(column, &stored).Error; err != nil {
			t.Fatal(err)
		}
		if len(stored) != 1 || stored[0] != digest(key) {
			t.Errorf("%s holds %v, want only the digest of the key", table, stored)
		}
	}
	var accessKey string
	if err := s.db.Table(tableRefreshTokens).Select("access_signature").Take(&accessKey).Error; err != nil || accessKey != digest("access-signature") {
		t.Errorf("refresh token's access signature is %q (%v), want its digest", accessKey, err)
	}
}

// Slow-query logs carry the SQL with its placeholders, never the values.
func TestSlowQueryLogOmitsValues(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, nil))
	s := openStore(t, storagetest.SQLiteDSN(t), Options{Logger: logger, SlowQuery: time.Nanosecond})
	if _, err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	u := &storage.User{ID: "u-1", Username: "henry", PasswordHash: "argon2id-hash-must-not-be-logged"}
	if err := s.CreateUser(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.Contains(out, "slow database query") || !strings.Contains(out, "INSERT INTO") {
		t.Fatalf("no slow query was logged:\n%s", out)
	}
	if strings.Contains(out, u.PasswordHash) || strings.Contains(out, "henry") {
		t.Fatalf("the log carries parameter values:\n%s", out)
	}
}
