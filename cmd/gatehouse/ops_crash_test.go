package main

import (
	"net/http"
	"syscall"
	"testing"
	"time"
)

// TestKillDashNineLosesNothingAnswered kills a server with SIGKILL in the
// middle of a bounded load of token and revocation requests, restarts it on
// the same database, and checks that every token answered 200 is still
// active and every revocation answered 200 still holds.
func TestKillDashNineLosesNothingAnswered(t *testing.T) {
	backendCLIs(t, func(t *testing.T, c *cli) {
		id, secret := serviceClient(t, c)
		o := newOpsClient(id, secret)
		p, base := opsServe(t, c)

		l := newLedger()
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			l.load(o, func() string { return base }, 4, 400, time.Millisecond, stop)
		}()
		// Kill once the load is well under way (bounded: the load itself
		// ends after 4×400 requests).
		deadline := time.Now().Add(30 * time.Second)
		for l.count(http.StatusOK) < 150 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if err := syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		<-p.done
		close(stop)
		<-done
		if l.count(http.StatusInternalServerError) > 0 {
			t.Fatalf("the server answered 500 under load: %v", l.statuses)
		}

		_, base = opsServe(t, c)
		l.verify(t, o, base)
	})
}
