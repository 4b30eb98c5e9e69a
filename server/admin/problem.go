package admin

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/gatehouse/gatehouse/server/credential"
	"github.com/gatehouse/gatehouse/server/keys"
	"github.com/gatehouse/gatehouse/server/manage"
	"github.com/gatehouse/gatehouse/storage"
)

const (
	maxBodyBytes    = 64 << 10
	defaultPageSize = 50
	maxPageSize     = 200
)

// problem is an RFC 7807 problem details object.
type problem struct {
	Type   string            `json:"type"`
	Title  string            `json:"title"`
	Status int               `json:"status"`
	Detail string            `json:"detail,omitempty"`
	Errors map[string]string `json:"errors,omitempty"`
}

func writeProblem(w http.ResponseWriter, status int, title, detail string, fields map[string]string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(problem{Type: "about:blank", Title: title, Status: status, Detail: detail, Errors: fields})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// fail maps a service error to problem details. Messages of validation and
// not-found errors are safe to show; anything else is logged (errors never
// carry secrets) and answered with a generic 500 or a 503.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	var ve *manage.ValidationError
	var nf *manage.NotFoundError
	switch {
	case errors.As(err, &ve):
		status := http.StatusUnprocessableEntity
		if errors.Is(err, storage.ErrAlreadyExists) {
			status = http.StatusConflict
		}
		writeProblem(w, status, http.StatusText(status), ve.Error(), map[string]string{ve.Field: ve.Message})
	case errors.As(err, &nf):
		writeProblem(w, http.StatusNotFound, "Not Found", nf.Error(), nil)
	case errors.Is(err, storage.ErrNotFound), errors.Is(err, keys.ErrUnknownKey):
		writeProblem(w, http.StatusNotFound, "Not Found", "The resource does not exist.", nil)
	case errors.Is(err, keys.ErrActiveKey), errors.Is(err, keys.ErrKeyTooYoung):
		writeProblem(w, http.StatusConflict, "Conflict", err.Error(), nil)
	case errors.Is(err, keys.ErrUnsupportedAlg):
		writeProblem(w, http.StatusUnprocessableEntity, "Unprocessable Entity", err.Error(), map[string]string{"alg": "unsupported algorithm"})
	case errors.Is(err, storage.ErrUnavailable), errors.Is(err, credential.ErrBusy):
		w.Header().Set("Retry-After", "5")
		writeProblem(w, http.StatusServiceUnavailable, "Service Unavailable", "Try again shortly.", nil)
	default:
		h.cfg.Logger.ErrorContext(r.Context(), "admin request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		writeProblem(w, http.StatusInternalServerError, "Internal Server Error", "", nil)
	}
}

// decodeOptional is decode for operations whose body may be left out.
func decodeOptional(w http.ResponseWriter, r *http.Request, v any) bool {
	return decodeBody(w, r, v, true)
}

// decode reads a JSON body into v, refusing unknown fields, trailing data and
// bodies over maxBodyBytes; it answers 400 itself and returns false on error.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	return decodeBody(w, r, v, false)
}

func decodeBody(w http.ResponseWriter, r *http.Request, v any, optional bool) bool {
	body := http.MaxBytesReader(w, r.Body, maxBodyBytes)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if optional && err == io.EOF {
		return true
	}
	if err == nil && dec.Decode(&struct{}{}) != io.EOF {
		err = errors.New("unexpected data after the JSON object")
	}
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeProblem(w, http.StatusRequestEntityTooLarge, "Request Entity Too Large", fmt.Sprintf("The body exceeds %d bytes.", maxBodyBytes), nil)
			return false
		}
		writeProblem(w, http.StatusBadRequest, "Bad Request", "The body is not a valid JSON object for this operation: "+err.Error(), nil)
		return false
	}
	return true
}

// list is a page of a collection.
type list[T any] struct {
	Items         []T    `json:"items"`
	NextPageToken string `json:"next_page_token,omitempty"`
}

// page cuts one page out of all, ordered as the store lists it. The page
// token is an opaque offset; paging is done in memory over the full list.
func page[T any](w http.ResponseWriter, r *http.Request, all []T) (list[T], bool) {
	size := defaultPageSize
	if v := r.URL.Query().Get("page_size"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPageSize {
			writeProblem(w, http.StatusBadRequest, "Bad Request", fmt.Sprintf("page_size must be between 1 and %d.", maxPageSize), map[string]string{"page_size": "out of range"})
			return list[T]{}, false
		}
		size = n
	}
	start := 0
	if tok := r.URL.Query().Get("page_token"); tok != "" {
		raw, err := base64.RawURLEncoding.DecodeString(tok)
		n, err2 := strconv.Atoi(string(raw))
		if err != nil || err2 != nil || n < 0 || n > len(all) {
			writeProblem(w, http.StatusBadRequest, "Bad Request", "The page token is not valid.", map[string]string{"page_token": "invalid"})
			return list[T]{}, false
		}
		start = n
	}
	end := min(start+size, len(all))
	out := list[T]{Items: all[start:end]}
	if out.Items == nil {
		out.Items = []T{}
	}
	if end < len(all) {
		out.NextPageToken = base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(end)))
	}
	return out, true
}
