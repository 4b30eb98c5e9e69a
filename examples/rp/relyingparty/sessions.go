package relyingparty

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// Cookie names; "__Host-" is added on https.
const (
	sessionCookie = "rp_session"
	loginCookie   = "rp_login"
	logoutCookie  = "rp_logout"
)

// session is one signed-in browser.
type session struct {
	sub, sid   string
	rawIDToken string
	claims     map[string]any
	userInfo   map[string]any
	token      *oauth2.Token
	notice     string
}

// pendingLogin is a started authorization request: what the callback checks.
type pendingLogin struct {
	state, nonce, verifier string
	expires                time.Time
}

// sessionStore keeps sessions, pending logins and seen logout-token ids in
// memory. Ended holds, for a while, why a session ended, so the browser that
// held it can be told.
type sessionStore struct {
	mu       sync.Mutex
	sessions map[string]*session
	pending  map[string]pendingLogin
	ended    map[string]time.Time
	seenJTIs map[string]time.Time
}

// maxPending bounds the started logins kept at once, so unauthenticated
// POSTs to /login cannot grow memory without limit.
const maxPending = 10000

func newSessionStore() *sessionStore {
	return &sessionStore{
		sessions: map[string]*session{},
		pending:  map[string]pendingLogin{},
		ended:    map[string]time.Time{},
		seenJTIs: map[string]time.Time{},
	}
}

func randomID() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (s *sessionStore) addPending(p pendingLogin) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	for id, old := range s.pending {
		if now.After(old.expires) {
			delete(s.pending, id)
		}
	}
	if len(s.pending) >= maxPending {
		for id := range s.pending { // drop an arbitrary one: an attack is under way
			delete(s.pending, id)
			break
		}
	}
	id := randomID()
	s.pending[id] = p
	return id
}

// takePending returns and forgets a pending login: each is usable once.
func (s *sessionStore) takePending(id string) (pendingLogin, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.pending[id]
	delete(s.pending, id)
	return p, ok && time.Now().Before(p.expires)
}

func (s *sessionStore) add(sess *session) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := randomID()
	s.sessions[id] = sess
	return id
}

// get returns a copy of the session, so handlers never share its maps.
func (s *sessionStore) get(id string) (session, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.sessions[id]
	if !ok {
		return session{}, false
	}
	return *sess, true
}

func (s *sessionStore) update(id string, fn func(*session)) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.sessions[id]
	if ok {
		fn(sess)
	}
	return ok
}

func (s *sessionStore) remove(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.sessions, id)
}

// endByProvider removes the sessions a logout token names (by sid when it
// has one, else every session of sub) and returns how many ended.
func (s *sessionStore) endByProvider(sub, sid string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	for id, at := range s.ended {
		if now.Sub(at) > time.Hour {
			delete(s.ended, id)
		}
	}
	n := 0
	for id, sess := range s.sessions {
		if (sid != "" && sess.sid == sid) || (sid == "" && sess.sub == sub) {
			delete(s.sessions, id)
			s.ended[id] = now
			n++
		}
	}
	return n
}

// endedByProvider tells whether the provider ended this session.
func (s *sessionStore) endedByProvider(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.ended[id]
	return ok
}

// firstUse records a logout token id until its expiry and reports whether
// it was new (a replayed token is refused).
func (s *sessionStore) firstUse(jti string, expires time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	for k, exp := range s.seenJTIs {
		if now.After(exp) {
			delete(s.seenJTIs, k)
		}
	}
	if _, seen := s.seenJTIs[jti]; seen {
		return false
	}
	s.seenJTIs[jti] = expires
	return true
}

func (a *App) cookieName(name string) string {
	if a.secure {
		return "__Host-" + name
	}
	return name
}

func (a *App) setCookie(w http.ResponseWriter, name, value string, maxAge time.Duration) {
	http.SetCookie(w, &http.Cookie{
		Name: a.cookieName(name), Value: value, Path: "/", MaxAge: int(maxAge.Seconds()),
		HttpOnly: true, Secure: a.secure, SameSite: http.SameSiteLaxMode,
	})
}

func (a *App) clearCookie(w http.ResponseWriter, name string) {
	http.SetCookie(w, &http.Cookie{
		Name: a.cookieName(name), Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: a.secure, SameSite: http.SameSiteLaxMode,
	})
}

func (a *App) cookie(r *http.Request, name string) string {
	c, err := r.Cookie(a.cookieName(name))
	if err != nil {
		return ""
	}
	return c.Value
}
