package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// envPprofAddr names the profiling listener (see servePprof).
const envPprofAddr = "GATEHOUSE_PPROF_ADDR"

// servePprof serves Go's profiler (net/http/pprof) on its own listener
// until ctx ends, and returns the address it listens on. It exists to
// profile a server under load: off by default, and only on a loopback
// address, because profiles show memory contents.
func servePprof(ctx context.Context, addr string, logger *slog.Logger) (net.Addr, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("--pprof-addr %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return nil, errors.New("--pprof-addr must be a loopback address such as 127.0.0.1:6060")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("pprof listener: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	logger.Warn("profiling listener is on (debug only)", "addr", ln.Addr().String())
	go func() { _ = srv.Serve(ln) }()
	return ln.Addr(), nil
}
