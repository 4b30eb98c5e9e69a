package credential

import (
	"context"
	"encoding/base64"
	"errors"
	"testing"

	"github.com/gatehouse/gatehouse/server/secret"
)

func newHasher(t testing.TB, current []byte, previous ...[]byte) *SecretHasher {
	t.Helper()
	k, err := secret.NewKeyring(current, previous...)
	if err != nil {
		t.Fatal(err)
	}
	return NewSecretHasher(k.Digester(secret.PurposeClientSecret))
}

var (
	systemSecret = []byte("0123456789abcdef0123456789abcdef-current")
	oldSecret    = []byte("0123456789abcdef0123456789abcdef-old")
)

func TestNewClientSecret(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		s, err := NewClientSecret()
		if err != nil {
			t.Fatal(err)
		}
		raw, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil || len(raw) != 32 {
			t.Fatalf("secret %q: %d bytes, %v; want 32 bytes of base64url", s, len(raw), err)
		}
		if seen[s] {
			t.Fatal("duplicate client secret")
		}
		seen[s] = true
	}
}

func TestRandomID(t *testing.T) {
	for _, n := range []int{8, 16, 32} {
		id := RandomID(n)
		raw, err := base64.RawURLEncoding.DecodeString(id)
		if err != nil || len(raw) != n {
			t.Fatalf("RandomID(%d) = %q: %d bytes, %v", n, id, len(raw), err)
		}
		if id == RandomID(n) {
			t.Fatalf("RandomID(%d) repeated", n)
		}
	}
	// Ids never start like a command-line flag (1 in 32 draws would).
	for range 2000 {
		if id := RandomID(8); id[0] == '-' || id[0] == '_' {
			t.Fatalf("RandomID = %q starts with %q", id, id[0])
		}
	}
}

func TestSecretHasher(t *testing.T) {
	ctx := context.Background()
	h := newHasher(t, systemSecret)
	clientSecret, err := NewClientSecret()
	if err != nil {
		t.Fatal(err)
	}
	digest, err := h.Hash(ctx, []byte(clientSecret))
	if err != nil {
		t.Fatal(err)
	}

	old := newHasher(t, oldSecret)
	oldDigest, _ := old.Hash(ctx, []byte(clientSecret))
	rotated := newHasher(t, systemSecret, oldSecret)

	tests := []struct {
		name   string
		h      *SecretHasher
		digest []byte
		secret string
		want   error
	}{
		{"right secret", h, digest, clientSecret, nil},
		{"wrong secret", h, digest, clientSecret + "x", ErrSecretMismatch},
		{"empty secret", h, digest, "", ErrSecretMismatch},
		{"empty digest", h, nil, clientSecret, ErrSecretMismatch},
		{"digest used as secret", h, digest, string(digest), ErrSecretMismatch},
		{"digest of a previous secret after rotation", rotated, oldDigest, clientSecret, nil},
		{"digest of a dropped secret", h, oldDigest, clientSecret, ErrSecretMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.h.Compare(ctx, tt.digest, []byte(tt.secret)); !errors.Is(err, tt.want) {
				t.Fatalf("Compare = %v, want %v", err, tt.want)
			}
		})
	}
}
