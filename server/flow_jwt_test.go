package server_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"

	"github.com/gatehouse/gatehouse/server/keys"
	"github.com/gatehouse/gatehouse/server/manage"
)

// jwks fetches the published key set.
func (e *env) jwks() jose.JSONWebKeySet {
	e.t.Helper()
	resp, err := http.Get(e.issuer + "/.well-known/jwks.json")
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "max-age=300") {
		e.t.Errorf("JWKS Cache-Control = %q", cc)
	}
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		e.t.Fatal(err)
	}
	return set
}

func TestPrivateKeyJWTClientAuthentication(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		for _, alg := range []jose.SignatureAlgorithm{jose.RS256, jose.ES256} {
			var priv any
			if alg == jose.RS256 {
				priv, _ = rsa.GenerateKey(rand.Reader, 2048)
			} else {
				priv, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			}
			jwk := jose.JSONWebKey{Key: priv, KeyID: "k-" + string(alg), Algorithm: string(alg), Use: "sig"}
			pub, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{jwk.Public()}})
			c, secret := e.client(manage.ClientSpec{GrantTypes: []string{"client_credentials"}, Scopes: []string{"reports:read"}, JWKS: pub, TokenEndpointAuthMethod: "private_key_jwt"})
			if secret != "" {
				t.Fatal("private_key_jwt client got a secret")
			}
			assertion := func(aud string) string {
				signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jwk}, (&jose.SignerOptions{}).WithType("JWT"))
				if err != nil {
					t.Fatal(err)
				}
				now := time.Now()
				raw, err := josejwt.Signed(signer).Claims(josejwt.Claims{
					Issuer: c.ID, Subject: c.ID, Audience: josejwt.Audience{aud}, ID: randomString(20),
					IssuedAt: josejwt.NewNumericDate(now), Expiry: josejwt.NewNumericDate(now.Add(time.Minute)),
				}).Serialize()
				if err != nil {
					t.Fatal(err)
				}
				remember(raw)
				return raw
			}
			request := func(a string) (int, map[string]any) {
				form := url.Values{
					"grant_type":            {"client_credentials"},
					"client_id":             {c.ID},
					"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
					"client_assertion":      {a},
				}
				status, body, _ := e.postForm("/oauth2/token", form, "", "")
				if at, ok := body["access_token"].(string); ok {
					remember(at)
				}
				return status, body
			}
			a := assertion(e.issuer + "/oauth2/token")
			if status, body := request(a); status != http.StatusOK {
				t.Fatalf("%s: private_key_jwt: %d %v", alg, status, body)
			}
			if status, body := request(a); status == http.StatusOK || body["error"] == nil {
				t.Errorf("%s: replayed assertion accepted: %d %v", alg, status, body)
			}
			if status, _ := request(assertion("https://other.example/token")); status != http.StatusUnauthorized {
				t.Errorf("%s: wrong audience: %d, want 401", alg, status)
			}
			// The registered method is enforced: a secret is not accepted.
			if status, _, _ := e.postForm("/oauth2/token", url.Values{"grant_type": {"client_credentials"}}, c.ID, "anything"); status != http.StatusUnauthorized {
				t.Errorf("%s: basic auth for a private_key_jwt client: %d", alg, status)
			}
		}
	})
}

func TestJWTAccessTokens(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		sub, pw := e.user("pete")
		c, s := e.client(manage.ClientSpec{SkipConsent: true, AccessTokenFormat: "jwt", Audience: []string{"https://api.example"}})
		r := e.rp(c, s)
		tok := r.fullLogin(newBrowser(t), person{"pete", pw, ""})
		parsed, err := josejwt.ParseSigned(tok.AccessToken, []jose.SignatureAlgorithm{jose.RS256, jose.ES256})
		if err != nil {
			t.Fatalf("access token is not a JWT: %v", err)
		}
		h := parsed.Headers[0]
		if h.KeyID == "" || h.ExtraHeaders["typ"] != "at+jwt" {
			t.Errorf("header kid=%q typ=%v", h.KeyID, h.ExtraHeaders["typ"])
		}
		set := e.jwks()
		keys := set.Key(h.KeyID)
		if len(keys) != 1 {
			t.Fatalf("kid %q not in JWKS", h.KeyID)
		}
		var claims struct {
			josejwt.Claims
			ClientID string `json:"client_id"`
			Scope    string `json:"scope"`
		}
		if err := parsed.Claims(keys[0].Key, &claims); err != nil {
			t.Fatalf("verify: %v", err)
		}
		if claims.Issuer != e.issuer || claims.Subject != sub || claims.ClientID != c.ID || claims.ID == "" ||
			claims.Scope != "openid profile email offline_access" || !claims.Audience.Contains(c.ID) {
			t.Errorf("claims = %+v", claims)
		}
		if claims.Expiry.Time().Sub(claims.IssuedAt.Time()) > 5*time.Minute {
			t.Errorf("JWT access token lives %v, want at most 5m", claims.Expiry.Time().Sub(claims.IssuedAt.Time()))
		}
		if e.introspect(tok.AccessToken, c.ID, s)["active"] != true {
			t.Error("JWT access token inactive at introspection")
		}
		// Requested audience is granted when registered.
		a := r.authURL(audienceParam("https://api.example"))
		code, _ := r.login(newBrowser(t), a, person{"pete", pw, ""})
		tok2 := r.mustExchange(code, a)
		parsed2, _ := josejwt.ParseSigned(tok2.AccessToken, []jose.SignatureAlgorithm{jose.RS256})
		var c2 josejwt.Claims
		_ = parsed2.UnsafeClaimsWithoutVerification(&c2)
		if !c2.Audience.Contains("https://api.example") {
			t.Errorf("aud = %v", c2.Audience)
		}
		// Revocation is seen by introspection although the JWT is still valid offline.
		_, _, _ = e.postForm("/oauth2/revoke", url.Values{"token": {tok.AccessToken}}, c.ID, s)
		if e.introspect(tok.AccessToken, c.ID, s)["active"] != false {
			t.Error("revoked JWT access token active at introspection")
		}
	})
}

func TestIDTokenES256(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		_, pw := e.user("quin")
		c, s := e.client(manage.ClientSpec{SkipConsent: true, IDTokenSigningAlg: "ES256"})
		tok := e.rp(c, s).fullLogin(newBrowser(t), person{"quin", pw, ""})
		parsed, err := josejwt.ParseSigned(tok.raw, []jose.SignatureAlgorithm{jose.ES256})
		if err != nil || parsed.Headers[0].Algorithm != "ES256" {
			t.Fatalf("ID token not ES256: %v", err)
		}
	})
}

func TestKeyRotationAcrossInstances(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		_, pw := e.user("rita")
		c, s := e.client(manage.ClientSpec{SkipConsent: true})
		r := e.rp(c, s)
		b := newBrowser(t)
		before := r.fullLogin(b, person{"rita", pw, ""})
		oldKID := kidOf(t, before.raw)

		second, secondKeys := e.secondInstance(50 * time.Millisecond)
		rotated, err := e.keys.Rotate(context.Background(), keys.AlgRS256, true)
		if err != nil {
			t.Fatal(err)
		}
		// The second instance follows the database on its own.
		deadline := time.Now().Add(10 * time.Second)
		for {
			kid, _ := secondKeys.ActiveKID(keys.AlgRS256)
			if kid == rotated.KID {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("second instance still signs with %s after 10s", kid)
			}
			time.Sleep(20 * time.Millisecond)
		}
		e.use(second)
		after := r.fullLogin(b, person{"rita", pw, ""})
		if kidOf(t, after.raw) != rotated.KID {
			t.Errorf("second instance signed with %s, want %s", kidOf(t, after.raw), rotated.KID)
		}
		// Tokens signed by the old key still verify: both keys are published.
		if _, err := r.verifier.Verify(context.Background(), before.raw); err != nil {
			t.Errorf("old ID token no longer verifies: %v", err)
		}
		set := e.jwks()
		if len(set.Key(oldKID)) != 1 || len(set.Key(rotated.KID)) != 1 {
			t.Errorf("JWKS lacks the old or the new key")
		}
	})
}

func kidOf(t *testing.T, raw string) string {
	t.Helper()
	parsed, err := josejwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256, jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	return parsed.Headers[0].KeyID
}
