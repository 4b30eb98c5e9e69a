//go:build linux

package storagetest

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// Cluster is a PostgreSQL cluster owned by one test, which may stop and
// start it (outage tests). Unlike the shared server behind PostgresDSN it
// never serves other tests.
type Cluster struct {
	bin, dir, data string
	cred           *syscall.Credential
	proc           *exec.Cmd
	exited         chan struct{}
}

// NewCluster initialises and starts a cluster in t.TempDir(), listening only
// on a unix socket there; it is stopped when t ends. It skips t (or fails it
// with GATEHOUSE_TEST_REQUIRE_POSTGRES=1) when initdb is not available.
func NewCluster(t testing.TB) *Cluster {
	t.Helper()
	unavailable := func(err error) {
		msg := "no PostgreSQL cluster of the test's own: " + err.Error()
		if os.Getenv("GATEHOUSE_TEST_REQUIRE_POSTGRES") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	bin, err := findPostgresBin()
	if err != nil {
		unavailable(err)
	}
	cred, err := clusterCredential()
	if err != nil {
		unavailable(err)
	}
	// A short path: unix socket paths are limited to 107 bytes.
	dir, err := os.MkdirTemp(clusterRoot(), clusterPrefix)
	if err != nil {
		t.Fatal(err)
	}
	// owner.pid lets removeStaleClusters clean up after a killed test run.
	if err := os.WriteFile(filepath.Join(dir, "owner.pid"), []byte(fmt.Sprint(os.Getpid())), 0o644); err != nil {
		t.Fatal(err)
	}
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			t.Fatal(err)
		}
	}
	c := &Cluster{bin: bin, dir: dir, data: filepath.Join(dir, "data"), cred: cred}
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", c.data, "-U", "postgres",
		"-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync")
	initdb.Dir = dir
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		_ = os.RemoveAll(dir)
		unavailable(fmt.Errorf("initdb: %w: %s", err, lastLines(out, 5)))
	}
	t.Cleanup(func() {
		c.Stop(t)
		_ = os.RemoveAll(dir)
	})
	c.Start(t)
	return c
}

// DSN returns the DSN of the cluster's postgres database.
func (c *Cluster) DSN() string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.User("postgres"),
		Path:     "/postgres",
		RawQuery: url.Values{"host": {c.dir}, "sslmode": {"disable"}, "connect_timeout": {"2"}}.Encode(),
	}
	return u.String()
}

// Start starts the postmaster and waits until it accepts connections.
func (c *Cluster) Start(t testing.TB) {
	t.Helper()
	if c.proc != nil {
		t.Fatal("cluster already running")
	}
	logFile, err := os.OpenFile(filepath.Join(c.dir, "postgres.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	cmd := exec.Command(filepath.Join(c.bin, "postgres"), "-D", c.data, "-k", c.dir,
		"-c", "listen_addresses=", "-c", "max_connections=100")
	cmd.Dir = c.dir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// As in startCluster: the parent-death signal stops the cluster even if
	// the test process is killed, so the fork happens on a locked thread.
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred, Pdeathsig: syscall.SIGINT}
	started, exited := make(chan error, 1), make(chan struct{})
	go func() {
		runtime.LockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		_ = cmd.Wait()
		close(exited)
	}()
	if err := <-started; err != nil {
		t.Fatalf("start postgres: %v", err)
	}
	c.proc, c.exited = cmd, exited
	db, err := sql.Open("pgx", c.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err := db.PingContext(ctx)
		cancel()
		if err == nil {
			return
		}
		select {
		case <-exited:
			out, _ := os.ReadFile(filepath.Join(c.dir, "postgres.log"))
			t.Fatalf("postgres exited at start: %s", lastLines(out, 5))
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("postgres does not accept connections within 30s: %v", err)
		}
	}
}

// Stop shuts the cluster down (fast shutdown: open sessions are
// disconnected, committed data is kept) and waits for it to exit.
func (c *Cluster) Stop(t testing.TB) {
	t.Helper()
	if c.proc == nil {
		return
	}
	_ = c.proc.Process.Signal(syscall.SIGINT)
	select {
	case <-c.exited:
	case <-time.After(30 * time.Second):
		_ = c.proc.Process.Kill()
		<-c.exited
		t.Error("postgres did not stop within 30s of SIGINT")
	}
	c.proc = nil
}
