package manage_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/openid"

	"github.com/gatehouse/gatehouse/server/manage"
	"github.com/gatehouse/gatehouse/storage"
	"github.com/gatehouse/gatehouse/storage/storagetest"
)

func jwksJSON(t *testing.T, keys ...any) []byte {
	t.Helper()
	var set jose.JSONWebKeySet
	for i, k := range keys {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: k, KeyID: string(rune('a' + i)), Use: "sig"})
	}
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCreateClientValidation(t *testing.T) {
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	smallRSA, _ := rsa.GenerateKey(rand.Reader, 1024)
	publicEC := jwksJSON(t, &ecKey.PublicKey)
	web := []string{"https://app.example.com/cb"}

	tests := []struct {
		name      string
		spec      manage.ClientSpec
		wantField string // "" means valid
	}{
		{"defaults", manage.ClientSpec{Name: "App", RedirectURIs: web}, ""},
		{"no name", manage.ClientSpec{Name: "  ", RedirectURIs: web}, "client_name"},
		{"control in name", manage.ClientSpec{Name: "A\x07pp", RedirectURIs: web}, "client_name"},
		{"code grant without redirect", manage.ClientSpec{Name: "App"}, "redirect_uris"},
		{"relative redirect", manage.ClientSpec{Name: "App", RedirectURIs: []string{"/cb"}}, "redirect_uris"},
		{"fragment", manage.ClientSpec{Name: "App", RedirectURIs: []string{"https://app.example.com/cb#x"}}, "redirect_uris"},
		{"empty fragment", manage.ClientSpec{Name: "App", RedirectURIs: []string{"https://app.example.com/cb#"}}, "redirect_uris"},
		{"http not loopback", manage.ClientSpec{Name: "App", RedirectURIs: []string{"http://app.example.com/cb"}}, "redirect_uris"},
		{"http 127.0.0.1", manage.ClientSpec{Name: "App", RedirectURIs: []string{"http://127.0.0.1:9000/cb"}}, ""},
		{"http [::1]", manage.ClientSpec{Name: "App", RedirectURIs: []string{"http://[::1]/cb"}}, ""},
		{"http localhost", manage.ClientSpec{Name: "App", RedirectURIs: []string{"http://localhost:3000/cb"}}, ""},
		{"custom scheme", manage.ClientSpec{Name: "App", RedirectURIs: []string{"com.example.app:/cb"}}, "redirect_uris"},
		{"user info", manage.ClientSpec{Name: "App", RedirectURIs: []string{"https://u:p@app.example.com/cb"}}, "redirect_uris"},
		{"bad post-logout", manage.ClientSpec{Name: "App", RedirectURIs: web, PostLogoutRedirectURIs: []string{"http://app.example.com/"}}, "post_logout_redirect_uris"},
		{"unknown grant", manage.ClientSpec{Name: "App", RedirectURIs: web, GrantTypes: []string{"password"}}, "grant_types"},
		{"implicit grant", manage.ClientSpec{Name: "App", RedirectURIs: web, GrantTypes: []string{"implicit"}}, "grant_types"},
		{"refresh alone", manage.ClientSpec{Name: "App", GrantTypes: []string{"client_credentials", "refresh_token"}}, "grant_types"},
		{"client credentials only", manage.ClientSpec{Name: "Svc", GrantTypes: []string{"client_credentials"}}, ""},
		{"public client credentials", manage.ClientSpec{Name: "SPA", Public: true, RedirectURIs: web, GrantTypes: []string{"authorization_code", "client_credentials"}}, "grant_types"},
		{"public with secret method", manage.ClientSpec{Name: "SPA", Public: true, RedirectURIs: web, TokenEndpointAuthMethod: "client_secret_basic"}, "token_endpoint_auth_method"},
		{"none without public", manage.ClientSpec{Name: "App", RedirectURIs: web, TokenEndpointAuthMethod: "none"}, "token_endpoint_auth_method"},
		{"unknown method", manage.ClientSpec{Name: "App", RedirectURIs: web, TokenEndpointAuthMethod: "tls_client_auth"}, "token_endpoint_auth_method"},
		{"public with jwks", manage.ClientSpec{Name: "SPA", Public: true, RedirectURIs: web, JWKS: publicEC}, "jwks"},
		{"jwks with secret method", manage.ClientSpec{Name: "App", RedirectURIs: web, TokenEndpointAuthMethod: "client_secret_post", JWKS: publicEC}, "jwks"},
		{"pkjwt without keys", manage.ClientSpec{Name: "App", RedirectURIs: web, TokenEndpointAuthMethod: "private_key_jwt"}, "jwks"},
		{"pkjwt both", manage.ClientSpec{Name: "App", RedirectURIs: web, JWKSURI: "https://app.example.com/jwks", JWKS: publicEC}, "jwks"},
		{"pkjwt http uri", manage.ClientSpec{Name: "App", RedirectURIs: web, JWKSURI: "http://app.example.com/jwks"}, "jwks_uri"},
		{"pkjwt https uri", manage.ClientSpec{Name: "App", RedirectURIs: web, JWKSURI: "https://app.example.com/jwks"}, ""},
		{"pkjwt not json", manage.ClientSpec{Name: "App", RedirectURIs: web, JWKS: []byte("{")}, "jwks"},
		{"pkjwt empty set", manage.ClientSpec{Name: "App", RedirectURIs: web, JWKS: []byte(`{"keys":[]}`)}, "jwks"},
		{"pkjwt private key", manage.ClientSpec{Name: "App", RedirectURIs: web, JWKS: jwksJSON(t, ecKey)}, "jwks"},
		{"pkjwt symmetric key", manage.ClientSpec{Name: "App", RedirectURIs: web, JWKS: jwksJSON(t, []byte("0123456789abcdef0123456789abcdef"))}, "jwks"},
		{"pkjwt P-384", manage.ClientSpec{Name: "App", RedirectURIs: web, JWKS: jwksJSON(t, &p384.PublicKey)}, "jwks"},
		{"pkjwt small RSA", manage.ClientSpec{Name: "App", RedirectURIs: web, JWKS: jwksJSON(t, &smallRSA.PublicKey)}, "jwks"},
		{"pkjwt alg without key", manage.ClientSpec{Name: "App", RedirectURIs: web, JWKS: publicEC, TokenEndpointAuthSigningAlg: "RS256"}, "jwks"},
		{"pkjwt bad alg", manage.ClientSpec{Name: "App", RedirectURIs: web, JWKS: publicEC, TokenEndpointAuthSigningAlg: "HS256"}, "token_endpoint_auth_signing_alg"},
		{"signing alg without pkjwt", manage.ClientSpec{Name: "App", RedirectURIs: web, TokenEndpointAuthSigningAlg: "RS256"}, "token_endpoint_auth_signing_alg"},
		{"id token alg", manage.ClientSpec{Name: "App", RedirectURIs: web, IDTokenSigningAlg: "ES256"}, ""},
		{"bad id token alg", manage.ClientSpec{Name: "App", RedirectURIs: web, IDTokenSigningAlg: "none"}, "id_token_signed_response_alg"},
		{"jwt access tokens", manage.ClientSpec{Name: "App", RedirectURIs: web, AccessTokenFormat: "jwt"}, ""},
		{"bad access token format", manage.ClientSpec{Name: "App", RedirectURIs: web, AccessTokenFormat: "paseto"}, "access_token_format"},
		{"bad scope", manage.ClientSpec{Name: "App", RedirectURIs: web, Scopes: []string{`openid "quoted"`}}, "scope"},
		{"bad audience", manage.ClientSpec{Name: "App", RedirectURIs: web, Audience: []string{""}}, "audience"},
	}
	f := newFixture(t, storagetest.SQLiteDSN(t))
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, sec, err := f.svc.CreateClient(context.Background(), tc.spec)
			if tc.wantField == "" {
				if err != nil {
					t.Fatalf("CreateClient: %v", err)
				}
				if c.ID == "" {
					t.Fatal("no client id")
				}
				return
			}
			var verr *manage.ValidationError
			if !errors.As(err, &verr) {
				t.Fatalf("CreateClient error = %v, want a ValidationError on %s", err, tc.wantField)
			}
			if verr.Field != tc.wantField || verr.Message == "" {
				t.Fatalf("ValidationError = %+v, want field %s", verr, tc.wantField)
			}
			if c != nil || sec != "" {
				t.Fatal("a refused client must return neither client nor secret")
			}
		})
	}
}

func TestCreateClientStoresWhatWasAsked(t *testing.T) {
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	backends(t, func(t *testing.T, f fixture) {
		ctx := context.Background()

		// A confidential client with defaults gets a secret stored as a digest.
		c, sec, err := f.svc.CreateClient(ctx, manage.ClientSpec{
			Name:         "Web app",
			RedirectURIs: []string{"https://app.example.com/cb", "HTTPS://app.example.com/Other?x=1", "https://app.example.com/cb"},
			Audience:     []string{"https://api.example.com"},
			SkipConsent:  true,
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(sec) < 43 {
			t.Fatalf("secret has %d characters, want at least 43 (256 bits)", len(sec))
		}
		got, err := f.svc.GetClient(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.SecretDigest) == 0 || bytes.Contains(got.SecretDigest, []byte(sec)) {
			t.Fatal("the secret must be stored only as a digest")
		}
		if err := f.hasher.Compare(ctx, got.SecretDigest, []byte(sec)); err != nil {
			t.Fatalf("stored digest does not verify the returned secret: %v", err)
		}
		want := []struct {
			name      string
			got, want any
		}{
			{"redirect URIs (exact strings, deduplicated)", got.RedirectURIs, []string{"https://app.example.com/cb", "HTTPS://app.example.com/Other?x=1"}},
			{"grant types", got.GrantTypes, []string{"authorization_code", "refresh_token"}},
			{"response types", []string(got.GetResponseTypes()), []string{"code"}},
			{"scopes", got.Scopes, []string{"openid", "profile", "email", "offline_access"}},
			{"audience", got.Audience, []string{"https://api.example.com"}},
			{"auth method", got.TokenEndpointAuthMethod, "client_secret_basic"},
			{"id token alg", got.IDTokenSigningAlg, "RS256"},
			{"access token format", got.AccessTokenFormat, "opaque"},
			{"public", got.Public, false},
			{"skip consent", got.SkipConsent, true},
		}
		for _, w := range want {
			if !equalJSON(t, w.got, w.want) {
				t.Errorf("%s = %v, want %v", w.name, w.got, w.want)
			}
		}

		// A public client and a private_key_jwt client get no secret.
		pub, sec, err := f.svc.CreateClient(ctx, manage.ClientSpec{Name: "SPA", Public: true, RedirectURIs: []string{"http://127.0.0.1:3000/cb"}, Scopes: []string{"openid profile", "email"}})
		if err != nil || sec != "" || pub.TokenEndpointAuthMethod != "none" || len(pub.SecretDigest) != 0 {
			t.Fatalf("public client: secret %q, method %q, err %v; want no secret and none", sec, pub.TokenEndpointAuthMethod, err)
		}
		if !slices.Equal(pub.Scopes, []string{"openid", "profile", "email"}) {
			t.Errorf("public client scopes = %v", pub.Scopes)
		}
		pk, sec, err := f.svc.CreateClient(ctx, manage.ClientSpec{Name: "Service", GrantTypes: []string{"client_credentials"}, JWKS: jwksJSON(t, &ecKey.PublicKey)})
		if err != nil || sec != "" {
			t.Fatalf("private_key_jwt client: secret %q, err %v", sec, err)
		}
		stored, err := f.svc.GetClient(ctx, pk.ID)
		if err != nil {
			t.Fatal(err)
		}
		if stored.TokenEndpointAuthMethod != "private_key_jwt" || stored.GetTokenEndpointAuthSigningAlgorithm() != "ES256" {
			t.Errorf("private_key_jwt client: method %q alg %q, want private_key_jwt ES256", stored.TokenEndpointAuthMethod, stored.GetTokenEndpointAuthSigningAlgorithm())
		}
		if set := stored.GetJSONWebKeys(); set == nil || len(set.Keys) != 1 || !set.Keys[0].IsPublic() {
			t.Errorf("stored JWKS = %v, want the one public key", set)
		}

		list, err := f.svc.ListClients(ctx)
		if err != nil || len(list) != 3 {
			t.Fatalf("ListClients = %d clients, %v; want 3", len(list), err)
		}
	})
}

func TestDeleteClientRevokesItsTokens(t *testing.T) {
	backends(t, func(t *testing.T, f fixture) {
		ctx := context.Background()
		c, _, err := f.svc.CreateClient(ctx, manage.ClientSpec{Name: "App", RedirectURIs: []string{"https://app.example.com/cb"}})
		if err != nil {
			t.Fatal(err)
		}
		storeAccessToken(t, f, c, "alice-sub", "token-of-app")

		if err := f.svc.DeleteClient(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.store.GetAccessTokenSession(ctx, "token-of-app", openid.NewDefaultSession()); err == nil {
			t.Fatal("the deleted client's access token is still active")
		}
		var nf *manage.NotFoundError
		if _, err := f.svc.GetClient(ctx, c.ID); !errors.As(err, &nf) || !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("GetClient after delete: %v, want NotFoundError", err)
		}
		if err := f.svc.DeleteClient(ctx, c.ID); !errors.As(err, &nf) {
			t.Fatalf("second DeleteClient: %v, want NotFoundError", err)
		}
	})
}

// storeAccessToken stores an opaque access token (by signature) issued to
// subject through client, as fosite would.
func storeAccessToken(t *testing.T, f fixture, c *storage.Client, subject, signature string) {
	t.Helper()
	sess := openid.NewDefaultSession()
	sess.Subject = subject
	sess.Claims.Subject = subject
	sess.SetExpiresAt(fosite.AccessToken, time.Now().Add(time.Hour))
	req := fosite.NewRequest()
	req.Client = c
	req.Session = sess
	req.RequestedAt = time.Now().UTC()
	req.GrantScope("openid")
	if err := f.store.CreateAccessTokenSession(context.Background(), signature, req); err != nil {
		t.Fatalf("store access token: %v", err)
	}
	if _, err := f.store.GetAccessTokenSession(context.Background(), signature, openid.NewDefaultSession()); err != nil {
		t.Fatalf("read back access token: %v", err)
	}
}

func equalJSON(t *testing.T, a, b any) bool {
	t.Helper()
	ja, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	jb, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return string(ja) == string(jb)
}
