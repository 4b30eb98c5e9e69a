package server

import (
	"context"
	"net/http"
	"time"

	"github.com/gatehouse/gatehouse/storage"
)

// readyTimeout bounds the database checks of one readiness probe, so that
// a hanging database fails the probe instead of piling probes up.
const readyTimeout = 3 * time.Second

// healthRoutes mounts the liveness and readiness probes (and their
// Kubernetes-style aliases /healthz and /readyz).
func healthRoutes(mux *http.ServeMux, store storage.Store, migrations MigrationChecker) {
	alive := func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) }
	ready := func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
		defer cancel()
		if msg := notReady(ctx, store, migrations); msg != "" {
			w.Header().Set("Retry-After", "5")
			http.Error(w, msg, http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	}
	for _, p := range []string{"/health/alive", "/healthz"} {
		mux.Handle("GET "+p, noStore(http.HandlerFunc(alive)))
	}
	for _, p := range []string{"/health/ready", "/readyz"} {
		mux.Handle("GET "+p, noStore(http.HandlerFunc(ready)))
	}
}

// notReady says why the server cannot serve requests, "" when it can. The
// message names no host or driver error: probes may be public.
func notReady(ctx context.Context, store storage.Store, migrations MigrationChecker) string {
	if err := store.Ping(ctx); err != nil {
		return "database unavailable"
	}
	if migrations == nil {
		return ""
	}
	pending, err := migrations.PendingMigrations(ctx)
	switch {
	case err != nil:
		return "database unavailable"
	case pending:
		return "database migrations pending"
	}
	return ""
}
