package admin

import (
	"errors"
	"net/http"
	"time"

	"github.com/gatehouse/gatehouse/server/keys"
	"github.com/gatehouse/gatehouse/server/manage"
	"github.com/gatehouse/gatehouse/storage"
)

type roleJSON struct {
	Name        string    `json:"name"`
	Description string    `json:"description"`
	Scopes      []string  `json:"scopes"`
	RequireMFA  bool      `json:"require_mfa"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

func roleOut(r *storage.Role) roleJSON {
	return roleJSON{Name: r.Name, Description: r.Description, Scopes: nonNil(r.Scopes), RequireMFA: r.RequireMFA, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

type roleCreate struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Scopes      []string `json:"scopes"`
	RequireMFA  bool     `json:"require_mfa"`
}

// rolePatch adds and removes scopes, as `roles add-scopes` and
// `roles remove-scopes` do.
type rolePatch struct {
	AddScopes    []string `json:"add_scopes"`
	RemoveScopes []string `json:"remove_scopes"`
}

func (h *Handler) listRoles(w http.ResponseWriter, r *http.Request) {
	rs, err := h.cfg.Manage.ListRoles(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := make([]roleJSON, len(rs))
	for i, role := range rs {
		out[i] = roleOut(role)
	}
	if p, ok := page(w, r, out); ok {
		writeJSON(w, http.StatusOK, p)
	}
}

func (h *Handler) createRole(w http.ResponseWriter, r *http.Request) {
	var in roleCreate
	if !decode(w, r, &in) {
		return
	}
	role, err := h.cfg.Manage.CreateRole(r.Context(), manage.RoleSpec{Name: in.Name, Description: in.Description, Scopes: in.Scopes, RequireMFA: in.RequireMFA})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/admin/roles/"+role.Name)
	writeJSON(w, http.StatusCreated, roleOut(role))
}

func (h *Handler) getRole(w http.ResponseWriter, r *http.Request) {
	role, err := h.cfg.Manage.GetRole(r.Context(), r.PathValue("name"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, roleOut(role))
}

func (h *Handler) patchRole(w http.ResponseWriter, r *http.Request) {
	var in rolePatch
	if !decode(w, r, &in) {
		return
	}
	name := r.PathValue("name")
	role, err := h.cfg.Manage.GetRole(r.Context(), name)
	if err == nil && len(in.AddScopes) > 0 {
		role, err = h.cfg.Manage.AddRoleScopes(r.Context(), name, in.AddScopes)
	}
	if err == nil && len(in.RemoveScopes) > 0 {
		role, err = h.cfg.Manage.RemoveRoleScopes(r.Context(), name, in.RemoveScopes)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, roleOut(role))
}

func (h *Handler) deleteRole(w http.ResponseWriter, r *http.Request) {
	if err := h.cfg.Manage.DeleteRole(r.Context(), r.PathValue("name")); err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type keyJSON struct {
	KID        string     `json:"kid"`
	Alg        string     `json:"alg"`
	CreatedAt  time.Time  `json:"created_at"`
	ActivateAt time.Time  `json:"activate_at"`
	RetiredAt  *time.Time `json:"retired_at,omitempty"`
	Active     bool       `json:"active"`
}

func (h *Handler) listKeys(w http.ResponseWriter, r *http.Request) {
	ks, err := h.cfg.Keys.List(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := make([]keyJSON, len(ks))
	for i, k := range ks {
		out[i] = keyJSON{KID: k.KID, Alg: k.Alg, CreatedAt: k.CreatedAt, ActivateAt: k.ActivateAt, RetiredAt: k.RetiredAt, Active: k.Active}
	}
	if p, ok := page(w, r, out); ok {
		writeJSON(w, http.StatusOK, p)
	}
}

// keyRotate is the body of POST /admin/keys and /admin/keys/rotate.
type keyRotate struct {
	// Alg defaults to RS256.
	Alg string `json:"alg"`
	// Now makes the new key sign at once instead of after the JWKS cache
	// lifetime.
	Now bool `json:"now"`
}

func (h *Handler) rotateKey(w http.ResponseWriter, r *http.Request) {
	var in keyRotate
	if !decodeOptional(w, r, &in) {
		return
	}
	if in.Alg == "" {
		in.Alg = keys.AlgRS256
	}
	rec, err := h.cfg.Keys.Rotate(r.Context(), in.Alg, in.Now)
	if err != nil && rec == nil {
		h.fail(w, r, err)
		return
	}
	if err != nil {
		// Stored, but this instance has not reloaded: it catches up with the
		// database within its poll interval.
		h.cfg.Logger.WarnContext(r.Context(), "admin: key rotated, reload failed", "kid", rec.KID, "err", err)
	}
	writeJSON(w, http.StatusCreated, keyJSON{KID: rec.KID, Alg: rec.Alg, CreatedAt: rec.CreatedAt, ActivateAt: rec.ActivateAt, Active: !rec.ActivateAt.After(time.Now())})
}

type keyRetire struct {
	Force bool `json:"force"`
}

func (h *Handler) retireKey(w http.ResponseWriter, r *http.Request) {
	var in keyRetire
	if !decodeOptional(w, r, &in) {
		return
	}
	err := h.cfg.Keys.Retire(r.Context(), r.PathValue("kid"), in.Force, h.cfg.MaxTokenLifetime)
	if errors.Is(err, storage.ErrNotFound) {
		writeProblem(w, http.StatusNotFound, "Not Found", "No key has this id.", nil)
		return
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
