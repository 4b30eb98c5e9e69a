package dcr

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/gatehouse/gatehouse/server/manage"
	"github.com/gatehouse/gatehouse/storage"
)

// regError is an RFC 7591 section 3.2.2 error.
type regError struct {
	Code        string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

func (e *regError) Error() string { return e.Code + ": " + e.Description }

func invalidMetadata(desc string) error {
	return &regError{Code: "invalid_client_metadata", Description: desc}
}

// fail answers a validation problem with 400 and its RFC error code.
func fail(w http.ResponseWriter, err error) {
	var re *regError
	if errors.As(err, &re) {
		writeJSON(w, http.StatusBadRequest, re)
		return
	}
	writeJSON(w, http.StatusBadRequest, &regError{Code: "invalid_client_metadata", Description: err.Error()})
}

// fail maps errors of the manage service; validation messages are safe to
// show, anything else is logged and answered 500.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	var ve *manage.ValidationError
	switch {
	case errors.As(err, &ve) && strings.HasPrefix(ve.Field, "redirect_uris"):
		writeJSON(w, http.StatusBadRequest, &regError{Code: "invalid_redirect_uri", Description: ve.Error()})
	case errors.As(err, &ve):
		writeJSON(w, http.StatusBadRequest, &regError{Code: "invalid_client_metadata", Description: ve.Error()})
	case errors.Is(err, storage.ErrNotFound):
		unauthorized(w)
	default:
		h.internal(w, r, err)
	}
}

func (h *Handler) internal(w http.ResponseWriter, r *http.Request, err error) {
	h.cfg.Logger.ErrorContext(r.Context(), "client registration", "err", err)
	writeJSON(w, http.StatusInternalServerError, &regError{Code: "server_error"})
}

func unauthorized(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
	writeJSON(w, http.StatusUnauthorized, &regError{Code: "invalid_token"})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// bearer returns the token of an Authorization: Bearer header.
func bearer(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	token = strings.TrimSpace(token)
	return token, ok && strings.EqualFold(scheme, "Bearer") && token != ""
}

// decode reads a JSON object of at most maxBodyBytes; unknown members are
// ignored (RFC 7591 section 2).
func decode(w http.ResponseWriter, r *http.Request) (*metadata, bool) {
	r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
	var m metadata
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(&m); err != nil || dec.More() {
		writeJSON(w, http.StatusBadRequest, &regError{Code: "invalid_client_metadata", Description: "the body must be one JSON object of client metadata"})
		return nil, false
	}
	return &m, true
}
