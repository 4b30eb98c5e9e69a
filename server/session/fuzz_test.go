package session

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gatehouse/gatehouse/server/secret"
)

// FuzzReadCookie feeds arbitrary cookie headers to the cookie codec: it must
// never panic, and it must accept no value but one this manager sealed.
func FuzzReadCookie(f *testing.F) {
	keyring, err := secret.NewKeyring([]byte("fuzz-secret-0123456789abcdefghijklmnop"))
	if err != nil {
		f.Fatal(err)
	}
	m := NewManager(Config{Cookies: keyring.AEAD(secret.PurposeCookie)})
	rec := httptest.NewRecorder()
	m.writeCookie(rec, m.sessionName, "a-session-token", 0)
	valid := rec.Result().Cookies()[0].Value

	f.Add(m.sessionName + "=" + valid)
	f.Add(m.flowName + "=" + valid)
	f.Add(m.sessionName + "=" + valid[:len(valid)-1])
	f.Add(m.sessionName + "=" + valid + "A")
	f.Add(m.sessionName + "=; " + m.sessionName + "=" + valid)
	f.Add(m.sessionName + "=\"" + valid + "\"")
	f.Add(m.sessionName + "=AAAA")
	f.Add(m.sessionName + "=%%%")
	f.Fuzz(func(t *testing.T, header string) {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Cookie", header)
		token, ok := m.readCookie(r, m.sessionName)
		if !ok {
			if token != "" {
				t.Fatalf("a refused cookie returned a token")
			}
			return
		}
		// Only "a-session-token" was ever sealed under this key (by any
		// fuzz worker: the key is derived from a fixed secret).
		if token != "a-session-token" {
			t.Fatalf("accepted a cookie this key did not seal: %q", header)
		}
	})
}

// FuzzCookieRoundTrip checks that every token sealed under a cookie name
// reads back unchanged under that name and under no other.
func FuzzCookieRoundTrip(f *testing.F) {
	keyring, err := secret.NewKeyring([]byte("fuzz-secret-0123456789abcdefghijklmnop"))
	if err != nil {
		f.Fatal(err)
	}
	m := NewManager(Config{Cookies: keyring.AEAD(secret.PurposeCookie)})
	f.Add("a-session-token")
	f.Add("")
	f.Add("\x00\xff;, =\"")
	f.Fuzz(func(t *testing.T, token string) {
		rec := httptest.NewRecorder()
		m.writeCookie(rec, m.sessionName, token, 0)
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		for _, c := range rec.Result().Cookies() {
			r.AddCookie(c)
			// The same value under another name (another purpose) is refused.
			r.AddCookie(&http.Cookie{Name: m.flowName, Value: c.Value})
		}
		got, ok := m.readCookie(r, m.sessionName)
		if !ok || got != token {
			t.Fatalf("round trip of %q = %q, %v", token, got, ok)
		}
		if _, ok := m.readCookie(r, m.flowName); ok {
			t.Fatal("a cookie sealed for one name was accepted under another")
		}
	})
}
