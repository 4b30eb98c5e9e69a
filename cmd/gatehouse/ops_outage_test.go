package main

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/storage/storagetest"
)

// TestPostgresRestartUnderLoad stops and restarts the test's own PostgreSQL
// cluster while a bounded load of token requests runs: meanwhile the server
// answers 503 with Retry-After (never 500), it recovers by itself, and every
// token answered 200 is still active afterwards.
func TestPostgresRestartUnderLoad(t *testing.T) {
	cluster := storagetest.NewCluster(t)
	c := newCLI(t)
	c.env["GATEHOUSE_DSN"] = cluster.DSN()
	id, secret := serviceClient(t, c)
	o := newOpsClient(id, secret)
	_, base := opsServe(t, c)

	l := newLedger()
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		// Bounded: at most 3×2000 requests at 5 ms intervals.
		l.load(o, func() string { return base }, 3, 2000, 5*time.Millisecond, stop)
	}()
	stopLoad := sync.OnceFunc(func() {
		close(stop)
		<-done
	})
	defer stopLoad()
	waitFor(t, 30*time.Second, "tokens before the outage", func() bool { return l.count(http.StatusOK) >= 20 })

	cluster.Stop(t)
	waitFor(t, 30*time.Second, "503 answers during the outage", func() bool { return l.count(http.StatusServiceUnavailable) >= 5 })
	cluster.Start(t)
	before := l.count(http.StatusOK)
	waitFor(t, 60*time.Second, "recovery after the restart", func() bool { return l.count(http.StatusOK) >= before+20 })
	stopLoad()

	l.mu.Lock()
	statuses, errs, badRetry := l.statuses, l.errors, l.badRetry
	l.mu.Unlock()
	for code, n := range statuses {
		if code != http.StatusOK && code != http.StatusServiceUnavailable {
			t.Errorf("%d answers with status %d during the restart (all: %v)", n, code, statuses)
		}
	}
	if errs > 0 {
		t.Errorf("%d requests got no HTTP answer at all", errs)
	}
	if badRetry > 0 {
		t.Errorf("%d answers 503 without Retry-After", badRetry)
	}
	l.verify(t, o, base)
}

// waitFor polls cond every 10 ms and fails t when it is not true within d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within %s", what, d)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
