package keys

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/ory/fosite/token/jwt"
)

func kidOf(t *testing.T, token string) string {
	t.Helper()
	jws, err := jose.ParseSigned(token, []jose.SignatureAlgorithm{jose.RS256, jose.ES256})
	if err != nil {
		t.Fatalf("parse token: %v", err)
	}
	return jws.Signatures[0].Header.KeyID
}

func readyManager(t *testing.T) (*Manager, *clock) {
	t.Helper()
	store, _ := openStore(t)
	clk := newClock()
	m := newManager(t, store, clk)
	if err := m.EnsureKeys(context.Background()); err != nil {
		t.Fatal(err)
	}
	return m, clk
}

func TestGenerateVerifiesWithGoJoseV4(t *testing.T) {
	ctx := context.Background()
	m, clk := readyManager(t)
	s := m.Signer()
	tests := []struct {
		name    string
		header  jwt.Mapper
		wantAlg string
		wantTyp string
	}{
		{"default", &jwt.Headers{}, AlgRS256, "JWT"},
		{"access token", &jwt.Headers{Extra: map[string]any{"typ": "at+jwt"}}, AlgRS256, "at+jwt"},
		{"ES256 id token", &jwt.Headers{Extra: map[string]any{"alg": "ES256"}}, AlgES256, "JWT"},
		{"ES256 logout token", &jwt.Headers{Extra: map[string]any{"alg": "ES256", "typ": "logout+jwt"}}, AlgES256, "logout+jwt"},
		{"caller's kid ignored", &jwt.Headers{Extra: map[string]any{"kid": "forged"}}, AlgRS256, "JWT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			claims := jwt.MapClaims{
				"iss": "https://issuer.example",
				"sub": "user-1",
				"aud": []string{"client-1"},
				"exp": clk.Now().Add(time.Hour).Unix(),
			}
			token, sig, err := s.Generate(ctx, claims, tt.header)
			if err != nil {
				t.Fatalf("Generate: %v", err)
			}
			if !strings.HasSuffix(token, "."+sig) {
				t.Fatal("returned signature is not the token's")
			}
			jws, err := jose.ParseSigned(token, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(tt.wantAlg)})
			if err != nil {
				t.Fatalf("go-jose v4 parse: %v", err)
			}
			h := jws.Signatures[0].Protected
			if h.Algorithm != tt.wantAlg || h.KeyID != mustActive(t, m, tt.wantAlg) || h.ExtraHeaders["typ"] != tt.wantTyp {
				t.Fatalf("header alg=%q kid=%q typ=%v; want %s, the active key, %s", h.Algorithm, h.KeyID, h.ExtraHeaders["typ"], tt.wantAlg, tt.wantTyp)
			}
			var pub *jose.JSONWebKey
			for _, k := range m.JWKS().Keys {
				if k.KeyID == h.KeyID {
					pub = &k
				}
			}
			if pub == nil {
				t.Fatal("signing key not in the JWKS")
			}
			payload, err := jws.Verify(pub)
			if err != nil {
				t.Fatalf("verify with the JWKS key: %v", err)
			}
			var got map[string]any
			if err := json.Unmarshal(payload, &got); err != nil {
				t.Fatal(err)
			}
			if got["sub"] != "user-1" || got["iss"] != "https://issuer.example" {
				t.Fatalf("claims = %v", got)
			}

			decoded, err := s.Decode(ctx, token)
			if err != nil || !decoded.Valid() {
				t.Fatalf("Decode: %v", err)
			}
			if decoded.Header["kid"] != h.KeyID || decoded.Claims["sub"] != "user-1" || string(decoded.Method) != tt.wantAlg {
				t.Fatalf("decoded token = %+v", decoded)
			}
			if vs, err := s.Validate(ctx, token); err != nil || vs != sig {
				t.Fatalf("Validate = %q, %v; want the signature", vs, err)
			}
		})
	}
}

func TestGenerateErrors(t *testing.T) {
	ctx := context.Background()
	m, _ := readyManager(t)
	s := m.Signer()
	if _, _, err := s.Generate(ctx, nil, &jwt.Headers{}); err == nil {
		t.Error("Generate with nil claims succeeded")
	}
	if _, _, err := s.Generate(ctx, jwt.MapClaims{}, nil); err == nil {
		t.Error("Generate with a nil header succeeded")
	}
	if _, _, err := s.Generate(ctx, jwt.MapClaims{}, &jwt.Headers{Extra: map[string]any{"alg": "HS256"}}); !errors.Is(err, ErrUnsupportedAlg) {
		t.Errorf("Generate with alg HS256: %v, want ErrUnsupportedAlg", err)
	}
	if _, _, err := s.Generate(ctx, jwt.MapClaims{"bad": func() {}}, &jwt.Headers{}); err == nil {
		t.Error("Generate with unencodable claims succeeded")
	}

	empty := newManager(t, m.store, newClock())
	if _, _, err := empty.Signer().Generate(ctx, jwt.MapClaims{}, &jwt.Headers{}); !errors.Is(err, ErrNoActiveKey) {
		t.Errorf("Generate before any key was loaded: %v, want ErrNoActiveKey", err)
	}
}

// forge signs claims with a loaded private key but an arbitrary header kid.
func forge(t *testing.T, m *Manager, signWith, claimKID string, claims map[string]any) string {
	t.Helper()
	k := m.state.Load().byKID[signWith]
	js, err := jose.NewSigner(jose.SigningKey{
		Algorithm: jose.SignatureAlgorithm(k.rec.Alg),
		Key:       jose.JSONWebKey{Key: k.private, KeyID: claimKID},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	jws, err := js.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestDecodeErrorsMatchFosite(t *testing.T) {
	ctx := context.Background()
	m, clk := readyManager(t)
	s := m.Signer()
	rs := mustActive(t, m, AlgRS256)
	es := mustActive(t, m, AlgES256)
	live := map[string]any{"sub": "user-1", "exp": clk.Now().Add(time.Hour).Unix()}

	good, _, err := s.Generate(ctx, live, &jwt.Headers{})
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, ".")
	tamperedPayload := base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"admin","exp":4102444800}`))
	noneHeader := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","kid":"` + rs + `"}`))

	tests := []struct {
		name  string
		token string
		flag  uint32
	}{
		{"garbage", "not-a-jwt", jwt.ValidationErrorMalformed},
		{"two parts", parts[0] + "." + parts[1], jwt.ValidationErrorMalformed},
		{"tampered payload", parts[0] + "." + tamperedPayload + "." + parts[2], jwt.ValidationErrorSignatureInvalid},
		{"alg none", noneHeader + "." + parts[1] + ".", jwt.ValidationErrorUnverifiable},
		{"unknown kid", forge(t, m, rs, "unknown", live), jwt.ValidationErrorUnverifiable},
		{"no kid", forge(t, m, rs, "", live), jwt.ValidationErrorUnverifiable},
		{"ES256 token naming the RS256 key", forge(t, m, es, rs, live), jwt.ValidationErrorUnverifiable},
		{"RS256 token naming the ES256 key", forge(t, m, rs, es, live), jwt.ValidationErrorUnverifiable},
		{"signature of another token", forge(t, m, rs, rs, live)[:len(parts[0])+len(parts[1])+2] + parts[2], jwt.ValidationErrorSignatureInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Decode(ctx, tt.token)
			var ve *jwt.ValidationError
			if !errors.As(err, &ve) || !ve.Has(tt.flag) {
				t.Fatalf("Decode error %v, want a ValidationError with flag %b", err, tt.flag)
			}
			if _, err := s.Validate(ctx, tt.token); err == nil {
				t.Fatal("Validate accepted the token")
			}
		})
	}
}

func TestDecodeExpiredReturnsTheToken(t *testing.T) {
	// fosite's id_token_hint handling accepts expired hints: it needs the
	// token back along with the expiry error.
	ctx := context.Background()
	m, _ := readyManager(t)
	s := m.Signer()
	expired := jwt.MapClaims{"sub": "user-1", "exp": time.Now().Add(-time.Hour).Unix()}
	token, _, err := s.Generate(ctx, expired, &jwt.Headers{})
	if err != nil {
		t.Fatal(err)
	}
	decoded, err := s.Decode(ctx, token)
	var ve *jwt.ValidationError
	if !errors.As(err, &ve) || !ve.Has(jwt.ValidationErrorExpired) {
		t.Fatalf("Decode of an expired token: %v, want ValidationErrorExpired", err)
	}
	if decoded == nil || decoded.Claims["sub"] != "user-1" {
		t.Fatalf("Decode of an expired token returned %+v, want the token", decoded)
	}
	if _, err := s.Validate(ctx, token); err == nil {
		t.Fatal("Validate accepted an expired token")
	}
}

func TestSignerHashAndSignature(t *testing.T) {
	ctx := context.Background()
	m, _ := readyManager(t)
	s := m.Signer()
	sum := sha256.Sum256([]byte("abc"))
	if h, err := s.Hash(ctx, []byte("abc")); err != nil || string(h) != string(sum[:]) {
		t.Fatalf("Hash = %x, %v; want SHA-256", h, err)
	}
	if n := s.GetSigningMethodLength(ctx); n != 32 {
		t.Fatalf("GetSigningMethodLength = %d", n)
	}
	tests := []struct {
		token, sig string
		ok         bool
	}{
		{"a.b.c", "c", true},
		{"a.b.", "", true},
		{"a.b", "", false},
		{"a.b.c.d", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		sig, err := s.GetSignature(ctx, tt.token)
		if (err == nil) != tt.ok || sig != tt.sig {
			t.Errorf("GetSignature(%q) = %q, %v", tt.token, sig, err)
		}
	}
}
