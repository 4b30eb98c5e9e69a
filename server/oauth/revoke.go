package oauth

import (
	"net/http"

	"github.com/ory/fosite"
)

// Revoke is the RFC 7009 endpoint. Clients authenticate as at the token
// endpoint; public clients name themselves with client_id (RFC 7009 §2.1).
func (p *Provider) Revoke(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	p.cors.allowRequestClient(w, r)
	if p.clientAuthLocked(w, r) {
		return
	}
	err := p.fosite.NewRevocationRequest(ctx, r)
	if err != nil {
		rfc := rfcError(err)
		p.logError(r, "revocation failed", rfc)
		p.countClientAuthFailure(r, rfc)
		// fosite's revocation handler reports a failed lookup or revoke as
		// a bare temporarily_unavailable (the storage error is not wrapped),
		// and WriteRevocationResponse would answer it 200: the client would
		// believe a revocation that did not happen.
		switch {
		case unavailable(err) || rfc.ErrorField == fosite.ErrTemporarilyUnavailable.ErrorField:
			writeJSONError(w, http.StatusServiceUnavailable, rfc)
			return
		case rfc.CodeField >= http.StatusInternalServerError:
			writeJSONError(w, http.StatusInternalServerError, fosite.ErrServerError)
			return
		}
	}
	p.fosite.WriteRevocationResponse(ctx, w, err)
}
