package credential

import (
	"context"
	"testing"
	"time"
)

// BenchmarkSecretHasher measures client authentication as fosite does it on
// every token, introspection and revocation request: one keyed digest of
// the presented secret compared with the stored one
// (go test -run '^$' -bench SecretHasher ./server/credential).
func BenchmarkSecretHasher(b *testing.B) {
	ctx := context.Background()
	h := newHasher(b, systemSecret, oldSecret)
	clientSecret, err := NewClientSecret()
	if err != nil {
		b.Fatal(err)
	}
	wrong, err := NewClientSecret()
	if err != nil {
		b.Fatal(err)
	}
	digest, err := h.Hash(ctx, []byte(clientSecret))
	if err != nil {
		b.Fatal(err)
	}
	// A digest stored before the system secret was rotated: Compare tries
	// every key of the ring.
	oldDigest, err := newHasher(b, oldSecret).Hash(ctx, []byte(clientSecret))
	if err != nil {
		b.Fatal(err)
	}
	b.Run("hash", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := h.Hash(ctx, []byte(clientSecret)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("compare-valid", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := h.Compare(ctx, digest, []byte(clientSecret)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("compare-wrong", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := h.Compare(ctx, digest, []byte(wrong)); err == nil {
				b.Fatal("a wrong secret was accepted")
			}
		}
	})
	b.Run("compare-previous-key", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := h.Compare(ctx, oldDigest, []byte(clientSecret)); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkPasswords measures argon2id with the default parameters (OWASP's
// m=19 MiB, t=2, p=1): Verify is what every password login pays, Hash what
// registration, a password change and a rehash pay
// (go test -run '^$' -bench Passwords ./server/credential).
func BenchmarkPasswords(b *testing.B) {
	ctx := context.Background()
	const password = "correct horse battery"
	// One slot, a long wait: a sequential benchmark never waits for a slot.
	p := NewPasswords(DefaultPasswordParams, 1, time.Minute)
	stored, err := p.Hash(ctx, password)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("hash", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := p.Hash(ctx, password); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("verify", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if ok, _, err := p.Verify(ctx, stored, password); err != nil || !ok {
				b.Fatalf("Verify = %v, %v", ok, err)
			}
		}
	})
	b.Run("verify-wrong", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if ok, _, err := p.Verify(ctx, stored, "wrong horse battery"); err != nil || ok {
				b.Fatalf("Verify = %v, %v", ok, err)
			}
		}
	})
	// An unknown user costs the same as a known one (the dummy hash).
	b.Run("verify-unknown-user", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if ok, _, err := p.Verify(ctx, "", password); err != nil || ok {
				b.Fatalf("Verify = %v, %v", ok, err)
			}
		}
	})
}
