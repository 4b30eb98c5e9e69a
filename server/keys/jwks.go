package keys

import (
	"net/http"
	"strconv"

	jose "github.com/go-jose/go-jose/v4"
)

// JWKS returns the public keys of every published (non-retired) key.
func (m *Manager) JWKS() jose.JSONWebKeySet {
	return m.state.Load().jwkSet()
}

func (s *keySet) jwkSet() jose.JSONWebKeySet {
	out := jose.JSONWebKeySet{Keys: make([]jose.JSONWebKey, 0, len(s.records))}
	for _, r := range s.records {
		out.Keys = append(out.Keys, s.byKID[r.KID].public)
	}
	return out
}

// ServeJWKS answers the jwks_uri: public, cacheable for the cache lifetime,
// readable cross-origin (browser apps verify ID tokens too).
func (m *Manager) ServeJWKS(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	body := m.state.Load().jwks
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "public, max-age="+strconv.Itoa(int(m.cacheLifetime.Seconds())))
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		_, _ = w.Write(body)
	}
}
