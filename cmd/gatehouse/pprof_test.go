package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestPprofListener(t *testing.T) {
	logger := slog.New(slog.DiscardHandler)
	for _, addr := range []string{"0.0.0.0:0", ":0", "192.0.2.1:6060", "localhost"} {
		if _, err := servePprof(t.Context(), addr, logger); err == nil {
			t.Errorf("--pprof-addr %q accepted: the profiler must stay on loopback", addr)
		}
	}

	ctx, cancel := context.WithCancel(t.Context())
	addr, err := servePprof(ctx, "127.0.0.1:0", logger)
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + addr.String() + "/debug/pprof/"
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "goroutine") {
		t.Fatalf("GET /debug/pprof/: %d %.200s", resp.StatusCode, body)
	}
	cancel()
	for range 100 {
		if _, err = http.Get(url); err != nil {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("the profiler still answers after its context ended")
}
