// Package outbound provides the one guarded HTTP client Gatehouse uses for
// requests it makes on behalf of clients (jwks_uri fetches, back-channel
// logout). It refuses loopback, private and link-local addresses — checked on
// the address actually dialed, so DNS tricks do not get around it — follows no
// redirects, times out after 5 s and only speaks https, unless AllowPrivate
// (dev mode and tests) lifts the address and scheme checks.
package outbound

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// MaxResponseBytes bounds what is read of any response.
const MaxResponseBytes = 64 << 10

// ErrForbiddenAddress is returned when a request would reach a private address.
var ErrForbiddenAddress = errors.New("outbound: destination address not allowed")

// NewClient returns the guarded client.
func NewClient(allowPrivate bool) *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	if !allowPrivate {
		dialer.Control = func(network, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return fmt.Errorf("%w: %s", ErrForbiddenAddress, address)
			}
			ip, err := netip.ParseAddr(host)
			if err != nil || !Public(ip) {
				return fmt.Errorf("%w: %s", ErrForbiddenAddress, address)
			}
			return nil
		}
	}
	transport := &http.Transport{
		DialContext:           dialer.DialContext,
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: 5 * time.Second,
		MaxIdleConnsPerHost:   4,
	}
	return &http.Client{
		Timeout:   5 * time.Second,
		Transport: &schemeGuard{next: transport, allowHTTP: allowPrivate},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// Public reports whether ip is a globally routable unicast address.
func Public(ip netip.Addr) bool {
	ip = ip.Unmap()
	return ip.IsValid() && ip.IsGlobalUnicast() && !ip.IsPrivate() &&
		!ip.IsLoopback() && !ip.IsLinkLocalUnicast() && !ip.IsUnspecified() &&
		!cgnat.Contains(ip)
}

var cgnat = netip.MustParsePrefix("100.64.0.0/10")

type schemeGuard struct {
	next      http.RoundTripper
	allowHTTP bool
}

func (g *schemeGuard) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Scheme != "https" && !(g.allowHTTP && r.URL.Scheme == "http") {
		return nil, fmt.Errorf("outbound: scheme %q not allowed", r.URL.Scheme)
	}
	resp, err := g.next.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.LimitReader(resp.Body, MaxResponseBytes), resp.Body}
	return resp, nil
}
