package storagetest

import (
	"bytes"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/storage"
)

// testClientSecretRotation: the rotated digest and its expiry round-trip,
// GetClient (what fosite authenticates with) sees them, and the digest is
// offered only until it expires.
func testClientSecretRotation(t *testing.T, s storage.Store) {
	ctx := ctxT(t)
	seedClient(t, s, "app")
	if c, _ := s.FindClient(ctx, "app"); c.RotatedSecretDigest != nil || c.RotatedSecretExpiresAt != nil || c.GetRotatedHashes() != nil {
		t.Fatalf("a new client has a rotated secret: %+v", c)
	}
	for _, tc := range []struct {
		name    string
		expires time.Time
		offered bool
	}{
		{"in grace", time.Now().Add(time.Hour), true},
		{"expired", time.Now().Add(-time.Second), false},
	} {
		must(t, "rotate", s.UpdateClient(ctx, "app", func(c *storage.Client) error {
			c.RotatedSecretDigest, c.SecretDigest = c.SecretDigest, []byte("v1:new-digest")
			c.RotatedSecretExpiresAt = &tc.expires
			return nil
		}))
		fc, err := s.GetClient(ctx, "app")
		must(t, "get client", err)
		c := fc.(*storage.Client)
		if !bytes.Equal(c.SecretDigest, []byte("v1:new-digest")) || len(c.RotatedSecretDigest) == 0 {
			t.Fatalf("%s: digests %q / %q", tc.name, c.SecretDigest, c.RotatedSecretDigest)
		}
		if c.RotatedSecretExpiresAt == nil || !c.RotatedSecretExpiresAt.Equal(tc.expires.UTC().Truncate(time.Microsecond)) || c.RotatedSecretExpiresAt.Location() != time.UTC {
			t.Fatalf("%s: expiry %v, want %v (UTC)", tc.name, c.RotatedSecretExpiresAt, tc.expires)
		}
		if got := len(c.GetRotatedHashes()) == 1; got != tc.offered {
			t.Fatalf("%s: rotated hash offered = %v", tc.name, got)
		}
	}
	must(t, "clear", s.UpdateClient(ctx, "app", func(c *storage.Client) error {
		c.RotatedSecretDigest, c.RotatedSecretExpiresAt = nil, nil
		return nil
	}))
	if c, _ := s.FindClient(ctx, "app"); c.RotatedSecretDigest != nil || c.RotatedSecretExpiresAt != nil {
		t.Fatalf("cleared rotation persists: %+v", c)
	}
}

// testRegistrationTokenDigest: the RFC 7592 registration token digest
// round-trips through create, update and both lookups.
func testRegistrationTokenDigest(t *testing.T, s storage.Store) {
	ctx := ctxT(t)
	seedClient(t, s, "app")
	if c, _ := s.FindClient(ctx, "app"); c.RegistrationTokenDigest != nil {
		t.Fatalf("a new client has a registration token: %+v", c)
	}
	must(t, "set", s.UpdateClient(ctx, "app", func(c *storage.Client) error {
		c.RegistrationTokenDigest = []byte("v1:reg-digest")
		return nil
	}))
	c, err := s.FindClient(ctx, "app")
	must(t, "find client", err)
	fc, err := s.GetClient(ctx, "app")
	must(t, "get client", err)
	for _, got := range [][]byte{c.RegistrationTokenDigest, fc.(*storage.Client).RegistrationTokenDigest} {
		if !bytes.Equal(got, []byte("v1:reg-digest")) {
			t.Fatalf("registration token digest %q", got)
		}
	}
}
