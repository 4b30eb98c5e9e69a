package keys

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/ory/fosite/token/jwt"
)

// signer is fosite's jwt.Signer over the manager's keys. It follows fosite's
// DefaultSigner (errors included, so fosite's errors.As checks still work)
// except that it signs with go-jose v4, names the key in `kid`, picks the key
// by the `alg` hint of the header, and verifies with any published key.
type signer struct {
	m *Manager
}

var _ jwt.Signer = signer{}

// Signer returns the fosite signer for ID tokens, JWT access tokens and
// logout tokens. The header's "alg" (RS256 by default) chooses the key; other
// headers, such as typ, are kept.
func (m *Manager) Signer() jwt.Signer { return signer{m: m} }

// Generate signs claims with the active key of the hinted algorithm and
// returns the token and its signature.
func (s signer) Generate(_ context.Context, claims jwt.MapClaims, header jwt.Mapper) (string, string, error) {
	if header == nil || claims == nil {
		return "", "", errors.New("either claims or header is nil")
	}
	alg := AlgRS256
	if hint, ok := header.Get("alg").(string); ok && hint != "" {
		alg = hint
	}
	k, err := s.m.activeKey(alg)
	if err != nil {
		return "", "", err
	}
	if k.private == nil {
		return "", "", fmt.Errorf("key %q cannot sign: its private key did not open", k.rec.KID)
	}

	extra := header.ToMap()
	// The key decides alg and kid; a caller's values would contradict it.
	delete(extra, "alg")
	delete(extra, "kid")
	if _, ok := extra["typ"]; !ok {
		extra["typ"] = jwt.JWTHeaderTypeValue
	}
	opts := &jose.SignerOptions{}
	for name, v := range extra {
		opts.WithHeader(jose.HeaderKey(name), v)
	}
	js, err := jose.NewSigner(jose.SigningKey{
		Algorithm: jose.SignatureAlgorithm(alg),
		Key:       jose.JSONWebKey{Key: k.private, KeyID: k.rec.KID},
	}, opts)
	if err != nil {
		return "", "", fmt.Errorf("signer for key %q: %w", k.rec.KID, err)
	}
	payload, err := json.Marshal(map[string]any(claims))
	if err != nil {
		return "", "", &jwt.ValidationError{Errors: jwt.ValidationErrorClaimsInvalid, Inner: err}
	}
	jws, err := js.Sign(payload)
	if err != nil {
		return "", "", fmt.Errorf("sign with key %q: %w", k.rec.KID, err)
	}
	raw, err := jws.CompactSerialize()
	if err != nil {
		return "", "", fmt.Errorf("serialize token: %w", err)
	}
	sig, err := getSignature(raw)
	return raw, sig, err
}

// Validate verifies the token's signature and claims and returns its signature.
func (s signer) Validate(ctx context.Context, token string) (string, error) {
	if _, err := s.Decode(ctx, token); err != nil {
		return "", err
	}
	return getSignature(token)
}

// Decode parses and verifies a token with the published key named by its
// kid. Like fosite's DefaultSigner it returns the token along with a
// *jwt.ValidationError when only the claims are invalid (e.g. expired), which
// fosite relies on for id_token_hint.
func (s signer) Decode(_ context.Context, token string) (*jwt.Token, error) {
	return jwt.ParseWithClaims(token, jwt.MapClaims{}, s.m.verificationKey)
}

// verificationKey is the jwt.Keyfunc: the published key named by kid, if the
// token's alg is that key's.
func (m *Manager) verificationKey(t *jwt.Token) (any, error) {
	kid, _ := t.Header["kid"].(string)
	k, ok := m.state.Load().byKID[kid]
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownKey, kid)
	}
	if string(t.Method) != k.rec.Alg {
		return nil, fmt.Errorf("token alg %q does not match key %q", t.Method, kid)
	}
	return k.public.Key, nil
}

// GetSignature returns the signature part of a compact JWS.
func (signer) GetSignature(_ context.Context, token string) (string, error) {
	return getSignature(token)
}

// Hash is SHA-256, as in fosite's DefaultSigner.
func (signer) Hash(_ context.Context, in []byte) ([]byte, error) {
	sum := sha256.Sum256(in)
	return sum[:], nil
}

// GetSigningMethodLength is the SHA-256 size, as in fosite's DefaultSigner.
func (signer) GetSigningMethodLength(context.Context) int {
	return jwt.SHA256HashSize
}

func getSignature(token string) (string, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", errors.New("header, body and signature must all be set")
	}
	return parts[2], nil
}
