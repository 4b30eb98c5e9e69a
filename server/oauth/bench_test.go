package oauth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/oauth2"

	"github.com/gatehouse/gatehouse/server/credential"
	"github.com/gatehouse/gatehouse/server/keys"
	"github.com/gatehouse/gatehouse/server/secret"
	"github.com/gatehouse/gatehouse/storage"
	"github.com/gatehouse/gatehouse/storage/sqlstore"
	"github.com/gatehouse/gatehouse/storage/sqlstore/sqlstoretest"
)

// benchStrategy returns the token strategy of a provider composed by
// NewProvider (taken from its introspection handler, so that the benchmark
// measures exactly what the endpoints use), with signing keys of both
// algorithms in a SQLite store.
func benchStrategy(b *testing.B) *tokenStrategy {
	b.Helper()
	ctx := context.Background()
	store := sqlstoretest.SQLite(b, sqlstore.Options{})
	keyring, err := secret.NewKeyring([]byte("oauth-bench-system-secret-0123456789abcdef"))
	if err != nil {
		b.Fatal(err)
	}
	km := keys.NewManager(keys.Config{Store: store, Sealer: keyring.AEAD(secret.PurposeAtRest)})
	if err := km.EnsureKeys(ctx); err != nil {
		b.Fatal(err)
	}
	p, err := NewProvider(Config{
		Issuer:       "https://id.example",
		Store:        store,
		TokenSecrets: keyring.Keys(secret.PurposeTokenHMAC),
		Signer:       km.Signer(),
		SecretHasher: credential.NewSecretHasher(keyring.Digester(secret.PurposeClientSecret)),
		// server.DefaultLifetimes.
		Lifetimes: Lifetimes{AuthorizeCode: 5 * time.Minute, AccessToken: 15 * time.Minute, JWTAccessToken: 5 * time.Minute,
			IDToken: 15 * time.Minute, RefreshIdle: 30 * 24 * time.Hour, RefreshAbsolute: 90 * 24 * time.Hour},
	})
	if err != nil {
		b.Fatal(err)
	}
	for _, h := range p.fosite.Config.GetTokenIntrospectionHandlers(ctx) {
		if v, ok := h.(*oauth2.CoreValidator); ok {
			if s, ok := v.CoreStrategy.(*tokenStrategy); ok {
				return s
			}
		}
	}
	b.Fatal("the provider's introspection handler does not use a *tokenStrategy")
	return nil
}

// benchRequest is a token request as the token endpoint builds it for a
// client-credentials grant: granted scopes, the roles claim, an expiry.
func benchRequest(client *storage.Client) *fosite.Request {
	sess := newSession()
	sess.Subject = client.ID
	sess.Claims.Subject = client.ID
	sess.Claims.Extra = map[string]interface{}{"roles": []string{"resource-server"}}
	sess.SetExpiresAt(fosite.AccessToken, time.Now().Add(15*time.Minute).UTC())
	sess.SetExpiresAt(fosite.RefreshToken, time.Now().Add(30*24*time.Hour).UTC())
	return &fosite.Request{
		ID:           "req-0123456789abcdef",
		RequestedAt:  time.Now().UTC(),
		Client:       client,
		GrantedScope: fosite.Arguments{"api:read", "api:write"},
		Session:      sess,
	}
}

// BenchmarkOpaqueTokens measures the opaque (HMAC-SHA256) tokens of the
// provider's strategy: generation of an access and a refresh token, and the
// validation every introspection, userinfo and refresh request pays before
// its database lookup (signature extraction + HMAC check + expiry)
// (go test -run '^$' -bench OpaqueTokens ./server/oauth).
func BenchmarkOpaqueTokens(b *testing.B) {
	ctx := context.Background()
	s := benchStrategy(b)
	req := benchRequest(&storage.Client{ID: "client-0123456789", AccessTokenFormat: storage.AccessTokenOpaque})
	b.Run("generate-access", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := s.GenerateAccessToken(ctx, req); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("generate-refresh", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := s.GenerateRefreshToken(ctx, req); err != nil {
				b.Fatal(err)
			}
		}
	})
	token, sig, err := s.GenerateAccessToken(ctx, req)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("validate-access", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if s.AccessTokenSignature(ctx, token) != sig {
				b.Fatal("signature mismatch")
			}
			if err := s.ValidateAccessToken(ctx, req, token); err != nil {
				b.Fatal(err)
			}
		}
	})
	forged := token[:len(token)-2] + "AA"
	if forged == token {
		forged = token[:len(token)-2] + "BB"
	}
	b.Run("validate-forged", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := s.ValidateAccessToken(ctx, req, forged); err == nil {
				b.Fatal("a forged token validated")
			}
		}
	})
}

// BenchmarkJWTAccessTokens measures RFC 9068 JWT access tokens through the
// same strategy, for a client registered for them: claims, signing with the
// client's algorithm, and the offline validation of the signature
// (go test -run '^$' -bench JWTAccessTokens ./server/oauth).
func BenchmarkJWTAccessTokens(b *testing.B) {
	ctx := context.Background()
	s := benchStrategy(b)
	for _, alg := range keys.Algorithms() {
		client := &storage.Client{ID: "client-0123456789", AccessTokenFormat: storage.AccessTokenJWT, IDTokenSigningAlg: alg}
		req := benchRequest(client)
		token, _, err := s.GenerateAccessToken(ctx, req)
		if err != nil {
			b.Fatal(err)
		}
		if got := headerAlg(b, token); got != alg {
			b.Fatalf("%s client: the access token is signed with %s", alg, got)
		}
		b.Run("generate-"+alg, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := s.GenerateAccessToken(ctx, req); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("validate-"+alg, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := s.ValidateAccessToken(ctx, req, token); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// headerAlg returns the alg of a JWT's header.
func headerAlg(b *testing.B, token string) string {
	b.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(token[:strings.IndexByte(token, '.')])
	if err != nil {
		b.Fatal(err)
	}
	var h struct {
		Alg string `json:"alg"`
	}
	if err := json.Unmarshal(raw, &h); err != nil {
		b.Fatal(err)
	}
	return h.Alg
}
