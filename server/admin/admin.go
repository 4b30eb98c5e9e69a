package admin

import (
	"context"
	_ "embed"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/server/keys"
	"github.com/gatehouse/gatehouse/server/manage"
	"github.com/gatehouse/gatehouse/storage"
)

// Scope is the scope an access token needs to call the admin API.
const Scope = "gatehouse:admin"

// OpenAPIPath serves the (public) OpenAPI document.
const OpenAPIPath = "/admin/openapi.json"

//go:embed openapi.json
var openAPI []byte

// OpenAPI returns the embedded OpenAPI 3 document.
func OpenAPI() []byte { return slices.Clone(openAPI) }

// BearerChecker checks an access token against the database and returns its
// granted scopes; oauth.Provider implements it.
type BearerChecker interface {
	BearerScopes(ctx context.Context, token string) ([]string, error)
}

// Config holds the Handler's dependencies.
type Config struct {
	Manage   *manage.Service
	Consents storage.Consents
	Sessions storage.BrowserSessions
	Keys     *keys.Manager
	Auth     BearerChecker
	Logger   *slog.Logger
	// MaxTokenLifetime bounds how long a key may have signed live tokens;
	// retiring a younger key needs force.
	MaxTokenLifetime time.Duration
}

// Handler serves the admin API.
type Handler struct {
	cfg Config
}

// New returns a Handler.
func New(cfg Config) *Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Handler{cfg: cfg}
}

// route is one admin operation; the table is data so that a test can compare
// it with the OpenAPI document.
type route struct {
	method, pattern string
	handle          func(*Handler, http.ResponseWriter, *http.Request)
}

var routes = []route{
	{"GET", "/admin/clients", (*Handler).listClients},
	{"POST", "/admin/clients", (*Handler).createClient},
	{"GET", "/admin/clients/{id}", (*Handler).getClient},
	{"PATCH", "/admin/clients/{id}", (*Handler).patchClient},
	{"DELETE", "/admin/clients/{id}", (*Handler).deleteClient},
	{"POST", "/admin/clients/{id}/rotate-secret", (*Handler).rotateSecret},
	{"PUT", "/admin/clients/{id}/roles/{role}", (*Handler).grantClientRole},
	{"DELETE", "/admin/clients/{id}/roles/{role}", (*Handler).revokeClientRole},
	{"GET", "/admin/users", (*Handler).listUsers},
	{"POST", "/admin/users", (*Handler).createUser},
	{"GET", "/admin/users/{id}", (*Handler).getUser},
	{"PATCH", "/admin/users/{id}", (*Handler).patchUser},
	{"DELETE", "/admin/users/{id}", (*Handler).deleteUser},
	{"POST", "/admin/users/{id}/sign-out", (*Handler).signOutUser},
	{"POST", "/admin/users/{id}/unlock", (*Handler).unlockUser},
	{"POST", "/admin/users/{id}/reset-mfa", (*Handler).resetMFA},
	{"PUT", "/admin/users/{id}/roles/{role}", (*Handler).grantUserRole},
	{"DELETE", "/admin/users/{id}/roles/{role}", (*Handler).revokeUserRole},
	{"GET", "/admin/users/{id}/sessions", (*Handler).listSessions},
	{"GET", "/admin/users/{id}/consents", (*Handler).listConsents},
	{"DELETE", "/admin/users/{id}/consents/{client_id}", (*Handler).deleteConsent},
	{"GET", "/admin/roles", (*Handler).listRoles},
	{"POST", "/admin/roles", (*Handler).createRole},
	{"GET", "/admin/roles/{name}", (*Handler).getRole},
	{"PATCH", "/admin/roles/{name}", (*Handler).patchRole},
	{"DELETE", "/admin/roles/{name}", (*Handler).deleteRole},
	{"GET", "/admin/keys", (*Handler).listKeys},
	{"POST", "/admin/keys", (*Handler).rotateKey},
	{"POST", "/admin/keys/rotate", (*Handler).rotateKey},
	{"POST", "/admin/keys/{kid}/retire", (*Handler).retireKey},
}

// Register mounts every admin route, and the OpenAPI document, on mux.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET "+OpenAPIPath, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(openAPI)
	})
	for _, rt := range routes {
		handle := rt.handle
		mux.HandleFunc(rt.method+" "+rt.pattern, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "no-store")
			if h.authorize(w, r) {
				handle(h, w, r)
			}
		})
	}
	// Anything else under /admin/ answers with problem details, not the
	// site's default 404 page.
	mux.HandleFunc("/admin/", func(w http.ResponseWriter, r *http.Request) {
		if h.authorize(w, r) {
			writeProblem(w, http.StatusNotFound, "Not Found", "No such admin resource or method.", nil)
		}
	})
}

// authorize answers 401 or 403 and returns false unless the request carries
// an active access token granted gatehouse:admin.
func (h *Handler) authorize(w http.ResponseWriter, r *http.Request) bool {
	token := ""
	if scheme, t, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "bearer") {
		token = strings.TrimSpace(t)
	}
	if token == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="gatehouse-admin"`)
		writeProblem(w, http.StatusUnauthorized, "Unauthorized", "A bearer access token is required.", nil)
		return false
	}
	scopes, err := h.cfg.Auth.BearerScopes(r.Context(), token)
	switch {
	case errors.Is(err, storage.ErrUnavailable):
		h.fail(w, r, err)
		return false
	case err != nil:
		w.Header().Set("WWW-Authenticate", `Bearer realm="gatehouse-admin", error="invalid_token"`)
		writeProblem(w, http.StatusUnauthorized, "Unauthorized", "The access token is invalid or expired.", nil)
		return false
	case !slices.Contains(scopes, Scope):
		w.Header().Set("WWW-Authenticate", `Bearer realm="gatehouse-admin", error="insufficient_scope", scope="`+Scope+`"`)
		writeProblem(w, http.StatusForbidden, "Forbidden", "The access token was not granted "+Scope+".", nil)
		return false
	}
	return true
}
