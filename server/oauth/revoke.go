package oauth

import (
	"net/http"
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
		if unavailable(err) {
			writeJSONError(w, http.StatusServiceUnavailable, rfc)
			return
		}
	}
	p.fosite.WriteRevocationResponse(ctx, w, err)
}
