package keys

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/ory/fosite/token/jwt"

	"github.com/gatehouse/gatehouse/server/secret"
	"github.com/gatehouse/gatehouse/storage/sqlstore"
)

// BenchmarkSign measures signing an ID-token-sized JWT with each algorithm
// (go test -bench Sign -run '^$' ./server/keys): the per-token cost of JWT
// access tokens and ID tokens on the token endpoint.
func BenchmarkSign(b *testing.B) {
	ctx := context.Background()
	store, err := sqlstore.Open(ctx, "sqlite:///"+filepath.Join(b.TempDir(), "k.db"), sqlstore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })
	if _, err := store.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	keyring, err := secret.NewKeyring([]byte(testSecret))
	if err != nil {
		b.Fatal(err)
	}
	m := NewManager(Config{Store: store, Sealer: keyring.AEAD(secret.PurposeAtRest)})
	if err := m.EnsureKeys(ctx); err != nil {
		b.Fatal(err)
	}
	signer := m.Signer()
	claims := jwt.MapClaims{"iss": "https://id.example", "sub": "user-0123456789", "aud": []string{"client-0123456789"},
		"iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix(), "nonce": "n-0123456789", "sid": "s-0123456789", "amr": []string{"pwd"}}
	for _, alg := range Algorithms() {
		b.Run(alg, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := signer.Generate(ctx, claims, &jwt.Headers{Extra: map[string]interface{}{"alg": alg}}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	token, _, err := signer.Generate(ctx, claims, &jwt.Headers{})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("verify-RS256", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := signer.Decode(ctx, token); err != nil {
				b.Fatal(err)
			}
		}
	})
}
