package admin

import (
	"context"
	"net/http"
	"time"

	"github.com/gatehouse/gatehouse/server/manage"
	"github.com/gatehouse/gatehouse/storage"
)

// userJSON is a user as the API shows it: never the password hash.
type userJSON struct {
	ID            string    `json:"id"`
	Username      string    `json:"username"`
	Email         string    `json:"email"`
	EmailVerified bool      `json:"email_verified"`
	DisplayName   string    `json:"display_name"`
	HasPassword   bool      `json:"has_password"`
	Disabled      bool      `json:"disabled"`
	RequireMFA    bool      `json:"require_mfa"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

func userOut(u *storage.User) userJSON {
	return userJSON{
		ID: u.ID, Username: u.Username, Email: u.Email, EmailVerified: u.EmailVerified, DisplayName: u.DisplayName,
		HasPassword: u.PasswordHash != "", Disabled: u.Disabled, RequireMFA: u.RequireMFA,
		CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt,
	}
}

type userCreate struct {
	Username    string `json:"username"`
	Email       string `json:"email"`
	DisplayName string `json:"display_name"`
	Password    string `json:"password"`
}

// userPatch is the body of PATCH /admin/users/{id}; absent fields stay.
type userPatch struct {
	DisplayName *string `json:"display_name"`
	Password    *string `json:"password"`
	Disabled    *bool   `json:"disabled"`
	RequireMFA  *bool   `json:"require_mfa"`
}

func (h *Handler) listUsers(w http.ResponseWriter, r *http.Request) {
	us, err := h.cfg.Manage.ListUsers(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := make([]userJSON, len(us))
	for i, u := range us {
		out[i] = userOut(u)
	}
	if p, ok := page(w, r, out); ok {
		writeJSON(w, http.StatusOK, p)
	}
}

func (h *Handler) createUser(w http.ResponseWriter, r *http.Request) {
	var in userCreate
	if !decode(w, r, &in) {
		return
	}
	u, err := h.cfg.Manage.CreateUser(r.Context(), manage.UserSpec{Username: in.Username, Email: in.Email, DisplayName: in.DisplayName, Password: in.Password})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/admin/users/"+u.ID)
	writeJSON(w, http.StatusCreated, userOut(u))
}

func (h *Handler) getUser(w http.ResponseWriter, r *http.Request) {
	u, err := h.cfg.Manage.GetUser(r.Context(), r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, userOut(u))
}

// patchUser applies each present field in turn; a failure leaves the fields
// before it applied.
func (h *Handler) patchUser(w http.ResponseWriter, r *http.Request) {
	var in userPatch
	if !decode(w, r, &in) {
		return
	}
	ctx := r.Context()
	m := h.cfg.Manage
	u, err := m.GetUser(ctx, r.PathValue("id"))
	steps := []func() (*storage.User, error){}
	if in.DisplayName != nil {
		steps = append(steps, func() (*storage.User, error) { return m.SetDisplayName(ctx, u.ID, *in.DisplayName) })
	}
	if in.Password != nil {
		steps = append(steps, func() (*storage.User, error) { return m.SetPassword(ctx, u.ID, *in.Password) })
	}
	if in.RequireMFA != nil {
		steps = append(steps, func() (*storage.User, error) { return m.SetRequireMFA(ctx, u.ID, *in.RequireMFA) })
	}
	if in.Disabled != nil && *in.Disabled {
		steps = append(steps, func() (*storage.User, error) { return m.DisableUser(ctx, u.ID) })
	}
	if in.Disabled != nil && !*in.Disabled {
		steps = append(steps, func() (*storage.User, error) { return m.EnableUser(ctx, u.ID) })
	}
	for _, step := range steps {
		if err != nil {
			break
		}
		u, err = step()
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, userOut(u))
}

func (h *Handler) deleteUser(w http.ResponseWriter, r *http.Request) {
	if _, err := h.cfg.Manage.DeleteUser(r.Context(), r.PathValue("id")); err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *Handler) signOutUser(w http.ResponseWriter, r *http.Request) {
	h.userAction(w, r, h.cfg.Manage.SignOutUser)
}

func (h *Handler) unlockUser(w http.ResponseWriter, r *http.Request) {
	h.userAction(w, r, h.cfg.Manage.UnlockUser)
}

func (h *Handler) resetMFA(w http.ResponseWriter, r *http.Request) {
	h.userAction(w, r, func(ctx context.Context, id string) (*storage.User, error) {
		u, _, err := h.cfg.Manage.ResetMFA(ctx, id)
		return u, err
	})
}

func (h *Handler) grantUserRole(w http.ResponseWriter, r *http.Request) {
	h.userAction(w, r, func(ctx context.Context, id string) (*storage.User, error) {
		return h.cfg.Manage.GrantUserRole(ctx, id, r.PathValue("role"))
	})
}

func (h *Handler) revokeUserRole(w http.ResponseWriter, r *http.Request) {
	h.userAction(w, r, func(ctx context.Context, id string) (*storage.User, error) {
		return h.cfg.Manage.RevokeUserRole(ctx, id, r.PathValue("role"))
	})
}

// userAction runs an action on the user named in the path and answers with
// the user.
func (h *Handler) userAction(w http.ResponseWriter, r *http.Request, act func(context.Context, string) (*storage.User, error)) {
	u, err := act(r.Context(), r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, userOut(u))
}

type consentJSON struct {
	ClientID  string    `json:"client_id"`
	Scopes    []string  `json:"scopes"`
	GrantedAt time.Time `json:"granted_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

// sessionJSON is a signed-in browser; its storage id (a digest of the
// cookie secret) is never shown.
type sessionJSON struct {
	SID        string    `json:"sid"`
	AuthTime   time.Time `json:"auth_time"`
	AMR        []string  `json:"amr"`
	CreatedAt  time.Time `json:"created_at"`
	LastSeenAt time.Time `json:"last_seen_at"`
	ExpiresAt  time.Time `json:"expires_at"`
}

func (h *Handler) listSessions(w http.ResponseWriter, r *http.Request) {
	u, err := h.cfg.Manage.GetUser(r.Context(), r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	ss, err := h.cfg.Sessions.ListUserBrowserSessions(r.Context(), u.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := make([]sessionJSON, len(ss))
	for i, s := range ss {
		out[i] = sessionJSON{SID: s.SID, AuthTime: s.AuthTime, AMR: nonNil(s.AMR), CreatedAt: s.CreatedAt, LastSeenAt: s.LastSeenAt, ExpiresAt: s.ExpiresAt}
	}
	if p, ok := page(w, r, out); ok {
		writeJSON(w, http.StatusOK, p)
	}
}

func (h *Handler) listConsents(w http.ResponseWriter, r *http.Request) {
	u, err := h.cfg.Manage.GetUser(r.Context(), r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	cs, err := h.cfg.Consents.ListUserConsents(r.Context(), u.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := make([]consentJSON, len(cs))
	for i, c := range cs {
		out[i] = consentJSON{ClientID: c.ClientID, Scopes: nonNil(c.Scopes), GrantedAt: c.GrantedAt, ExpiresAt: c.ExpiresAt}
	}
	if p, ok := page(w, r, out); ok {
		writeJSON(w, http.StatusOK, p)
	}
}

// deleteConsent forgets the consent and revokes the client's tokens for the
// user, like "disconnect" on the account page.
func (h *Handler) deleteConsent(w http.ResponseWriter, r *http.Request) {
	u, err := h.cfg.Manage.GetUser(r.Context(), r.PathValue("id"))
	if err == nil {
		err = h.cfg.Manage.DisconnectApp(r.Context(), u.ID, r.PathValue("client_id"))
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
