package storagetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
)

// pgServer is the PostgreSQL server this test process creates databases on.
type pgServer struct {
	admin *sql.DB  // connection to the server's maintenance database
	base  *url.URL // DSN of the maintenance database; tests get its path replaced
	err   error    // why no server is available
}

var (
	pgOnce sync.Once
	pg     pgServer
)

// SQLiteDSN returns the DSN of a SQLite database file in t.TempDir().
func SQLiteDSN(t testing.TB) string {
	t.Helper()
	return "sqlite://" + filepath.Join(t.TempDir(), "gatehouse.db")
}

// PostgresDSN returns the postgres:// DSN of a fresh, empty database that is
// dropped when t ends (see the package documentation for where the server
// comes from). It skips t when no PostgreSQL is available, or fails it when
// GATEHOUSE_TEST_REQUIRE_POSTGRES=1.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	pgOnce.Do(func() {
		pg = findServer()
		if pg.err != nil {
			// Once per process on stderr as well: go test hides the skip
			// reasons of passing packages unless -v.
			fmt.Fprintln(os.Stderr, unavailableBanner(pg.err))
		}
	})
	if pg.err != nil {
		msg := unavailableBanner(pg.err)
		if os.Getenv("GATEHOUSE_TEST_REQUIRE_POSTGRES") == "1" {
			t.Fatal(msg + "\nGATEHOUSE_TEST_REQUIRE_POSTGRES=1: PostgreSQL is required")
		}
		t.Skip(msg)
	}

	name := "gh_" + strings.ToLower(rand.Text())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// template0 is pristine whatever the server's template1 holds, and
	// accepts no connections, so concurrent tests may copy it at once.
	if _, err := pg.admin.ExecContext(ctx, "CREATE DATABASE "+name+" TEMPLATE template0"); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := pg.admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Logf("drop test database %s: %v", name, err)
		}
	})
	dsn := *pg.base
	dsn.Path = "/" + name
	return dsn.String()
}

func unavailableBanner(err error) string {
	line := strings.Repeat("!", 72)
	return "\n" + line +
		"\n!! POSTGRESQL UNAVAILABLE: PostgreSQL tests are SKIPPED, not passed.\n!! " + err.Error() +
		"\n!! Set TEST_DATABASE_URL=postgres://... or install PostgreSQL (initdb, postgres).\n" + line
}

// findServer connects to TEST_DATABASE_URL, else starts a local cluster.
func findServer() pgServer {
	if raw := os.Getenv("TEST_DATABASE_URL"); raw != "" {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			return pgServer{err: errors.New("TEST_DATABASE_URL is not a postgres:// URL")}
		}
		return connect(u, 5*time.Second)
	}
	u, err := startCluster()
	if err != nil {
		return pgServer{err: fmt.Errorf("TEST_DATABASE_URL is unset and no throwaway cluster could be started: %w", err)}
	}
	return connect(u, 30*time.Second)
}

// connect opens the admin connection and waits up to wait for the server.
func connect(u *url.URL, wait time.Duration) pgServer {
	db, err := sql.Open("pgx", u.String())
	if err != nil {
		return pgServer{err: fmt.Errorf("open admin connection: %w", err)}
	}
	db.SetMaxOpenConns(4)
	deadline := time.Now().Add(wait)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err = db.PingContext(ctx)
		cancel()
		if err == nil {
			return pgServer{admin: db, base: u}
		}
		if time.Now().After(deadline) {
			_ = db.Close()
			return pgServer{err: fmt.Errorf("PostgreSQL at %s does not answer: %w", u.Redacted(), err)}
		}
		time.Sleep(50 * time.Millisecond)
	}
}
