package oauth

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/ory/fosite"

	"github.com/gatehouse/gatehouse/server/credential"
	"github.com/gatehouse/gatehouse/server/source"
	"github.com/gatehouse/gatehouse/storage"
)

// unavailable reports whether err means "try again later" (database outage,
// password hashing saturated).
func unavailable(err error) bool {
	return errors.Is(err, storage.ErrUnavailable) || errors.Is(err, credential.ErrBusy)
}

// rfcError converts any error into an RFC 6749 error, mapping outages to
// temporarily_unavailable.
func rfcError(err error) *fosite.RFC6749Error {
	if unavailable(err) {
		return fosite.ErrTemporarilyUnavailable.WithWrap(err)
	}
	// Two requests raced for one code or token and this one lost.
	if errors.Is(err, storage.ErrConflict) {
		return fosite.ErrInvalidGrant.WithHint("The grant was used concurrently by another request.").WithWrap(err)
	}
	return fosite.ErrorToRFC6749Error(err)
}

// authorizeError answers a failed authorization request: an error redirect
// (with `iss` and `state`) when the redirect URI was validated, an error page
// otherwise. fosite's WriteAuthorizeError cannot add `iss`, so the redirect
// is built here.
func (p *Provider) authorizeError(w http.ResponseWriter, r *http.Request, ar fosite.AuthorizeRequester, err error) {
	rfc := rfcError(err)
	p.logError(r, "authorization failed", rfc)
	if ar == nil || !ar.IsRedirectURIValid() {
		switch {
		case unavailable(err):
			p.cfg.Pages.Unavailable(w, r)
		case rfc.CodeField >= 500:
			p.cfg.Pages.Internal(w, r, err)
		default:
			msg := rfc.GetDescription()
			p.cfg.Pages.Error(w, r, http.StatusBadRequest, "This request cannot be completed",
				"The application sent an invalid sign-in request: "+msg)
		}
		return
	}
	redirect := ar.GetRedirectURI()
	u := *redirect
	q := u.Query()
	q.Set("error", rfc.ErrorField)
	if d := rfc.GetDescription(); d != "" {
		q.Set("error_description", d)
	}
	if p.cfg.Debug && rfc.DebugField != "" {
		q.Set("error_debug", rfc.DebugField)
	}
	if s := ar.GetState(); s != "" {
		q.Set("state", s)
	}
	q.Set("iss", p.cfg.Issuer)
	u.RawQuery = q.Encode()
	u.Fragment = ""
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, u.String(), http.StatusSeeOther)
}

// logError logs a protocol error once at the edge: server errors at error
// level with the wrapped cause, client mistakes at info.
func (p *Provider) logError(r *http.Request, msg string, rfc *fosite.RFC6749Error) {
	ctx := r.Context()
	attrs := []any{"error", rfc.ErrorField, "description", rfc.GetDescription()}
	if rfc.DebugField != "" {
		attrs = append(attrs, "debug", rfc.DebugField)
	}
	if cause := rfc.Unwrap(); cause != nil {
		attrs = append(attrs, "cause", cause.Error())
	}
	switch {
	case rfc.ErrorField == fosite.ErrTemporarilyUnavailable.ErrorField:
		p.cfg.Logger.WarnContext(ctx, msg, attrs...)
	case rfc.CodeField >= 500:
		p.cfg.Logger.ErrorContext(ctx, msg, attrs...)
	default:
		p.cfg.Logger.InfoContext(ctx, msg, attrs...)
	}
}

// pageStorageError renders the page for a storage failure.
func (p *Provider) pageStorageError(w http.ResponseWriter, r *http.Request, err error) {
	if unavailable(err) {
		p.cfg.Pages.Unavailable(w, r)
		return
	}
	p.cfg.Pages.Internal(w, r, err)
}

// writeAccessError writes a token-endpoint style error; outages answer 503
// with Retry-After instead of fosite's 500.
func (p *Provider) writeAccessError(w http.ResponseWriter, r *http.Request, req fosite.AccessRequester, err error) {
	rfc := rfcError(err)
	p.logError(r, "token request failed", rfc)
	p.countClientAuthFailure(r, rfc)
	if rfc.ErrorField == fosite.ErrTemporarilyUnavailable.ErrorField {
		writeJSONError(w, http.StatusServiceUnavailable, rfc)
		return
	}
	p.fosite.WriteAccessError(r.Context(), w, req, rfc)
}

// writeJSONError writes an RFC 6749 error body with the given status.
func writeJSONError(w http.ResponseWriter, status int, rfc *fosite.RFC6749Error) {
	h := w.Header()
	h.Set("Content-Type", "application/json;charset=UTF-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	if status == http.StatusServiceUnavailable {
		h.Set("Retry-After", "5")
	}
	w.WriteHeader(status)
	body := map[string]string{"error": rfc.ErrorField}
	if d := rfc.GetDescription(); d != "" {
		body["error_description"] = d
	}
	_ = json.NewEncoder(w).Encode(body)
}

// writeStorageError answers a JSON endpoint whose storage failed: 503 with
// Retry-After for an outage, 500 otherwise (logged once here).
func (p *Provider) writeStorageError(w http.ResponseWriter, r *http.Request, msg string, err error) {
	rfc := rfcError(err)
	p.logError(r, msg, rfc)
	if unavailable(err) {
		writeJSONError(w, http.StatusServiceUnavailable, rfc)
		return
	}
	writeJSONError(w, http.StatusInternalServerError, fosite.ErrServerError)
}

// clientAuthLocked answers 429 when the source address made too many failed
// client authentications; true means the request was answered.
func (p *Provider) clientAuthLocked(w http.ResponseWriter, r *http.Request) bool {
	until, locked := p.cfg.ClientAuth.Locked(source.Addr(r.Context()))
	if !locked {
		return false
	}
	w.Header().Set("Retry-After", strconv.Itoa(int(time.Until(until).Seconds())+1))
	writeJSONError(w, http.StatusTooManyRequests, fosite.ErrInvalidClient.WithHint("Too many failed client authentications from this address; try again later."))
	return true
}

// countClientAuthFailure counts an invalid_client answer toward the limit.
func (p *Provider) countClientAuthFailure(r *http.Request, rfc *fosite.RFC6749Error) {
	if rfc.ErrorField == fosite.ErrInvalidClient.ErrorField {
		p.cfg.ClientAuth.Failure(source.Addr(r.Context()))
	}
}
