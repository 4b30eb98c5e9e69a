package session

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/server/secret"
	"github.com/gatehouse/gatehouse/storage"
	"github.com/gatehouse/gatehouse/storage/sqlstore"
	"github.com/gatehouse/gatehouse/storage/sqlstore/sqlstoretest"
)

// headerWriter is a ResponseWriter that keeps only headers, cleared by reset,
// so the benchmark measures the codec and not a recorder.
type headerWriter http.Header

func (w headerWriter) Header() http.Header         { return http.Header(w) }
func (w headerWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w headerWriter) WriteHeader(int)             {}
func (w headerWriter) reset()                      { clear(w) }

func benchManager(b *testing.B, store storage.Store) *Manager {
	b.Helper()
	keyring, err := secret.NewKeyring([]byte("session-bench-secret-0123456789abcdef"))
	if err != nil {
		b.Fatal(err)
	}
	return NewManager(Config{Store: store, Cookies: keyring.AEAD(secret.PurposeCookie), Secure: true,
		Idle: 24 * time.Hour, Absolute: 14 * 24 * time.Hour, Pending: 5 * time.Minute})
}

// BenchmarkCookieCodec measures the browser session cookie: sealing a token
// into a Set-Cookie header (AES-GCM bound to the cookie name, base64url),
// reading it back from a request carrying the three Gatehouse cookies, and
// the digest that keys the session row
// (go test -run '^$' -bench CookieCodec ./server/session).
func BenchmarkCookieCodec(b *testing.B) {
	m := benchManager(b, nil)
	token := randomToken()
	w := headerWriter{}
	b.Run("write", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			w.reset()
			m.writeCookie(w, m.sessionName, token, m.cfg.Absolute)
		}
	})
	r := browserRequest(b, m, token)
	b.Run("read", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if got, ok := m.readCookie(r, m.sessionName); !ok || got != token {
				b.Fatalf("readCookie = %q, %v", got, ok)
			}
		}
	})
	forged := httptest.NewRequest(http.MethodGet, "/authorize", nil)
	forged.Header.Set("Cookie", m.sessionName+"="+randomToken()+randomToken())
	b.Run("read-forged", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := m.readCookie(forged, m.sessionName); ok {
				b.Fatal("a forged cookie was accepted")
			}
		}
	})
	b.Run("digest", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = Digest(token)
		}
	})
}

// BenchmarkCurrent measures what every authorization request of a signed-in
// browser pays to find its session: the cookie read and one session lookup
// in SQLite (go test -run '^$' -bench Current ./server/session).
func BenchmarkCurrent(b *testing.B) {
	ctx := context.Background()
	store := sqlstoretest.SQLite(b, sqlstore.Options{})
	if err := store.CreateUser(ctx, &storage.User{ID: "u1", Username: "ann", Email: "ann@example.com"}); err != nil {
		b.Fatal(err)
	}
	m := benchManager(b, store)
	rec := httptest.NewRecorder()
	if _, err := m.SignIn(ctx, rec, httptest.NewRequest(http.MethodPost, "/login", nil), "u1", []string{"pwd"}); err != nil {
		b.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodGet, "/authorize", nil)
	for _, c := range rec.Result().Cookies() {
		r.AddCookie(c)
	}
	b.ReportAllocs()
	for b.Loop() {
		if s, err := m.Current(ctx, r); err != nil || s == nil {
			b.Fatalf("Current = %v, %v", s, err)
		}
	}
}

// browserRequest is a request carrying the session, flow and device
// cookies, as a signed-in browser in the middle of a flow sends them.
func browserRequest(b *testing.B, m *Manager, token string) *http.Request {
	b.Helper()
	w := headerWriter{}
	for _, name := range []string{m.sessionName, m.flowName, m.deviceName} {
		m.writeCookie(w, name, token, time.Hour)
	}
	r := httptest.NewRequest(http.MethodGet, "/authorize", nil)
	for _, line := range w.Header()["Set-Cookie"] {
		c, err := http.ParseSetCookie(line)
		if err != nil {
			b.Fatal(err)
		}
		r.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	if len(r.Cookies()) != 3 {
		b.Fatalf("request carries %d cookies, want 3", len(r.Cookies()))
	}
	return r
}
