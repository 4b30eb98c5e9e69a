package outbound

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

func TestPublic(t *testing.T) {
	for addr, want := range map[string]bool{
		"8.8.8.8": true, "2606:4700::1111": true,
		"127.0.0.1": false, "::1": false, "10.1.2.3": false, "172.16.0.1": false, "192.168.1.1": false,
		"169.254.169.254": false, "fe80::1": false, "fc00::1": false, "0.0.0.0": false, "100.64.0.1": false,
		"::ffff:127.0.0.1": false, "224.0.0.1": false,
	} {
		if got := Public(netip.MustParseAddr(addr)); got != want {
			t.Errorf("Public(%s) = %v, want %v", addr, got, want)
		}
	}
}

func TestGuardedClientRefusesLoopbackAndHTTP(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(strings.Repeat("x", 2*MaxResponseBytes)))
	}))
	defer srv.Close()

	// http is refused before any connection.
	if _, err := NewClient(false).Get(srv.URL); err == nil || !strings.Contains(err.Error(), "scheme") {
		t.Errorf("http allowed: %v", err)
	}
	// https to a loopback address is refused at dial time.
	tls := httptest.NewTLSServer(http.NotFoundHandler())
	defer tls.Close()
	if _, err := NewClient(false).Get(tls.URL); !errors.Is(err, ErrForbiddenAddress) {
		t.Errorf("loopback allowed: %v", err)
	}
	// AllowPrivate (dev, tests) lifts both checks; responses are bounded.
	resp, err := NewClient(true).Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	buf := make([]byte, 3*MaxResponseBytes)
	n := 0
	for {
		m, err := resp.Body.Read(buf[n:])
		n += m
		if err != nil {
			break
		}
	}
	if n != MaxResponseBytes {
		t.Errorf("read %d bytes, want at most %d", n, MaxResponseBytes)
	}
}

func TestNoRedirects(t *testing.T) {
	srv := httptest.NewServer(http.RedirectHandler("http://example.com/", http.StatusFound))
	defer srv.Close()
	resp, err := NewClient(true).Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Errorf("redirect followed: %d", resp.StatusCode)
	}
}
