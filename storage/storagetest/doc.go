// Package storagetest is the conformance suite every storage.Store backend
// must pass (Run), and the helpers every package's tests use to get a
// database: SQLiteDSN (a file in t.TempDir()) and PostgresDSN (a fresh, empty
// database per test).
//
// PostgresDSN finds a server in this order:
//
//  1. TEST_DATABASE_URL (postgres://..., a role with CREATEDB): each test
//     gets CREATE DATABASE gh_<random> TEMPLATE template0 on that server,
//     dropped (WITH FORCE, PostgreSQL 13+) when the test ends.
//  2. A throwaway cluster started once per test process with the machine's
//     initdb and postgres binaries (PATH, then /usr/lib/postgresql/*/bin),
//     run as the postgres user when the tests run as root, listening only on
//     a unix socket in its own directory (gatehouse-pgtest-*) under /dev/shm
//     when writable, else os.TempDir(). It is tuned for tests (fsync off).
//  3. Neither: the test is skipped with a loud message, or fails when
//     GATEHOUSE_TEST_REQUIRE_POSTGRES=1.
//
// How the throwaway cluster is stopped: a test binary has no hook that runs
// at exit when the TestMain belongs to another package, so the postmaster is
// started as a direct child with a parent-death signal (SIGINT, PostgreSQL's
// fast shutdown), forked from an OS thread that stays locked for the life of
// the process. Whenever the test process ends — normally, by panic or by
// SIGKILL — the kernel stops the cluster. A detached shell watchdog then
// deletes the cluster's directory; should it fail, the next process that
// starts a cluster deletes every directory whose owner.pid is no longer a
// live process.
//
// NewCluster is the exception: a cluster owned by one test, which stops and
// starts it at will (outage tests), removed when the test ends.
//
// The package holds process-wide state (the server, behind a sync.Once) on
// purpose: one cluster per test binary is what makes PostgreSQL tests cheap.
// It must not import storage/sqlstore, whose tests import it; backends open
// their stores themselves and hand Run a constructor.
package storagetest
