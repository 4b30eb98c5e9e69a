package keys

import (
	"crypto"
	"encoding/base64"
	"testing"
)

// Key ids are RFC 7638 thumbprints that never begin with '-' or '_' (a
// command line would read a flag). In 300 ES256 keys about nine
// thumbprints would begin with one of them.
func TestKeyIDs(t *testing.T) {
	for range 300 {
		_, pub, err := newKey(AlgES256)
		if err != nil {
			t.Fatal(err)
		}
		thumb, err := pub.Thumbprint(crypto.SHA256)
		if err != nil {
			t.Fatal(err)
		}
		if want := base64.RawURLEncoding.EncodeToString(thumb); pub.KeyID != want {
			t.Fatalf("kid %q, want the thumbprint %q", pub.KeyID, want)
		}
		if c := pub.KeyID[0]; c == '-' || c == '_' {
			t.Fatalf("kid %q begins with %q", pub.KeyID, c)
		}
	}
}
