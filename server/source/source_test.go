package source

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestSourceAddress(t *testing.T) {
	trusted, err := ParsePrefixes("10.0.0.0/8, 192.168.1.1")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		peer, xff, want string
	}{
		{"203.0.113.5:1234", "", "203.0.113.5"},
		{"203.0.113.5:1234", "1.2.3.4", "203.0.113.5"},                     // untrusted peer: header ignored
		{"10.1.2.3:80", "198.51.100.7", "198.51.100.7"},                    // behind our proxy
		{"10.1.2.3:80", "6.6.6.6, 198.51.100.7, 10.9.9.9", "198.51.100.7"}, // spoofed left part ignored
		{"192.168.1.1:80", "", "192.168.1.1"},                              // trusted peer, no header
		{"10.1.2.3:80", "garbage", "10.1.2.3"},
		{"[::ffff:203.0.113.9]:1", "", "203.0.113.9"},
	} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = tc.peer
		if tc.xff != "" {
			r.Header.Set("X-Forwarded-For", tc.xff)
		}
		var got string
		Middleware(trusted, http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { got = Addr(r.Context()) })).ServeHTTP(httptest.NewRecorder(), r)
		if got != tc.want {
			t.Errorf("peer %s, XFF %q: %s, want %s", tc.peer, tc.xff, got, tc.want)
		}
	}
	if _, err := ParsePrefixes("not-an-address"); err == nil {
		t.Error("bad prefix accepted")
	}
}
