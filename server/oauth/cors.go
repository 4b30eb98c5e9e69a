package oauth

import (
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/ory/fosite"

	"github.com/gatehouse/gatehouse/storage"
)

// cors answers browser apps calling the token, UserInfo and revocation
// endpoints. An origin is allowed when it is the origin of one of the
// client's registered https or loopback redirect URIs; the Origin is echoed
// only for the client concerned, and credentials are never allowed.
type cors struct {
	store storage.Clients
	now   func() time.Time

	mu      sync.Mutex
	origins map[string]bool // every client's origins, for preflights
	expires time.Time
}

// preflightCacheTTL bounds how stale the preflight origin set may be.
const preflightCacheTTL = 10 * time.Second

// clientOrigins returns the web origins of a client's redirect URIs.
func clientOrigins(c *storage.Client) []string {
	var out []string
	for _, raw := range c.RedirectURIs {
		u, err := url.Parse(raw)
		if err != nil || u.Host == "" {
			continue
		}
		if u.Scheme == "https" || (u.Scheme == "http" && fosite.IsLocalhost(u)) {
			o := u.Scheme + "://" + u.Host
			if !slices.Contains(out, o) {
				out = append(out, o)
			}
		}
	}
	return out
}

// originAllowed also accepts a loopback origin on any port when the client
// registered a loopback redirect URI (RFC 8252 ports vary).
func originAllowed(c *storage.Client, origin string) bool {
	o, err := url.Parse(origin)
	if err != nil {
		return false
	}
	for _, allowed := range clientOrigins(c) {
		if allowed == origin {
			return true
		}
		a, _ := url.Parse(allowed)
		if a.Scheme == "http" && o.Scheme == "http" && fosite.IsLocalhost(a) && a.Hostname() == o.Hostname() {
			return true
		}
	}
	return false
}

func setCORSHeaders(w http.ResponseWriter, origin string) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Expose-Headers", "WWW-Authenticate, Retry-After")
}

// allowClient echoes the request's Origin if it belongs to client.
func (c *cors) allowClient(w http.ResponseWriter, r *http.Request, client fosite.Client) {
	w.Header().Add("Vary", "Origin")
	origin := r.Header.Get("Origin")
	sc, ok := client.(*storage.Client)
	if origin == "" || !ok || !originAllowed(sc, origin) {
		return
	}
	setCORSHeaders(w, origin)
}

// allowRequestClient is allowClient for the client named by the request
// (HTTP Basic user name or client_id form field). It costs a client lookup
// only when the request comes from a browser (has an Origin).
func (c *cors) allowRequestClient(w http.ResponseWriter, r *http.Request) {
	w.Header().Add("Vary", "Origin")
	if r.Header.Get("Origin") == "" {
		return
	}
	id, _, ok := r.BasicAuth()
	if ok {
		id, _ = url.QueryUnescape(id)
	} else if err := r.ParseForm(); err == nil {
		id = r.PostForm.Get("client_id")
	}
	if id == "" {
		return
	}
	client, err := c.store.FindClient(r.Context(), id)
	if err != nil {
		return
	}
	c.allowClient(w, r, client)
}

// Preflight answers CORS preflight requests: allowed when any client
// registered the origin (the actual response is then checked per client).
func (c *cors) Preflight(w http.ResponseWriter, r *http.Request) {
	w.Header().Add("Vary", "Origin")
	origin := r.Header.Get("Origin")
	if origin != "" && c.anyClientAllows(r, origin) {
		setCORSHeaders(w, origin)
		h := w.Header()
		h.Set("Access-Control-Allow-Methods", "GET, POST")
		h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
		h.Set("Access-Control-Max-Age", "600")
	}
	w.WriteHeader(http.StatusNoContent)
}

func (c *cors) anyClientAllows(r *http.Request, origin string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if now := c.now(); c.origins == nil || now.After(c.expires) {
		clients, err := c.store.ListClients(r.Context())
		if err != nil {
			return false
		}
		c.origins = map[string]bool{}
		for _, cl := range clients {
			for _, o := range clientOrigins(cl) {
				c.origins[o] = true
			}
		}
		c.expires = now.Add(preflightCacheTTL)
	}
	if c.origins[origin] {
		return true
	}
	// Loopback origins match on any port.
	o, err := url.Parse(origin)
	if err != nil || o.Scheme != "http" || !fosite.IsLocalhost(o) {
		return false
	}
	for allowed := range c.origins {
		a, _ := url.Parse(allowed)
		if a.Scheme == "http" && a.Hostname() == o.Hostname() {
			return true
		}
	}
	return false
}
