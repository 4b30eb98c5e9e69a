package oauth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/oauth2"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/fosite/token/jwt"

	"github.com/gatehouse/gatehouse/storage"
)

// tokenStrategy issues opaque HMAC tokens, except access tokens of clients
// registered for RFC 9068 JWT access tokens. Validation dispatches on the
// token's shape; both kinds are always checked against the database too.
type tokenStrategy struct {
	*oauth2.HMACSHAStrategy
	signer      jwt.Signer
	issuer      string
	jwtLifetime time.Duration
}

var _ oauth2.CoreStrategy = (*tokenStrategy)(nil)

func isJWT(token string) bool { return strings.Count(token, ".") == 2 }

func (s *tokenStrategy) AccessTokenSignature(ctx context.Context, token string) string {
	if isJWT(token) {
		return token[strings.LastIndexByte(token, '.')+1:]
	}
	return s.HMACSHAStrategy.AccessTokenSignature(ctx, token)
}

func (s *tokenStrategy) GenerateAccessToken(ctx context.Context, req fosite.Requester) (string, string, error) {
	client, ok := req.GetClient().(*storage.Client)
	if !ok || client.AccessTokenFormat != storage.AccessTokenJWT {
		return s.HMACSHAStrategy.GenerateAccessToken(ctx, req)
	}
	now := time.Now().UTC()
	sess := req.GetSession()
	exp := sess.GetExpiresAt(fosite.AccessToken)
	// JWT access tokens are checked offline by resource servers until they
	// expire, so they live shorter than opaque ones.
	if limit := now.Add(s.jwtLifetime); exp.IsZero() || exp.After(limit) {
		exp = limit
		sess.SetExpiresAt(fosite.AccessToken, exp)
	}
	aud := []string(req.GetGrantedAudience())
	if len(aud) == 0 {
		aud = []string{client.ID}
	}
	subject := sess.GetSubject()
	if subject == "" {
		subject = client.ID
	}
	jti := make([]byte, 16)
	if _, err := rand.Read(jti); err != nil {
		return "", "", fmt.Errorf("jwt access token id: %w", err)
	}
	claims := jwt.MapClaims{
		"iss":       s.issuer,
		"sub":       subject,
		"aud":       aud,
		"client_id": client.ID,
		"scope":     strings.Join(req.GetGrantedScopes(), " "),
		"iat":       now.Unix(),
		"exp":       exp.Unix(),
		"jti":       base64.RawURLEncoding.EncodeToString(jti),
	}
	if roles := sessionRoles(sess); roles != nil {
		claims["roles"] = roles
	}
	// The client's signing algorithm (id_token_signed_response_alg) signs
	// its access tokens too: ES256 costs about a twentieth of RS256.
	header := &jwt.Headers{Extra: map[string]interface{}{"typ": "at+jwt"}}
	if client.IDTokenSigningAlg != "" {
		header.Add("alg", client.IDTokenSigningAlg)
	}
	token, sig, err := s.signer.Generate(ctx, claims, header)
	if err != nil {
		return "", "", fmt.Errorf("sign jwt access token: %w", err)
	}
	return token, sig, nil
}

func (s *tokenStrategy) ValidateAccessToken(ctx context.Context, req fosite.Requester, token string) error {
	if !isJWT(token) {
		return s.HMACSHAStrategy.ValidateAccessToken(ctx, req, token)
	}
	t, err := s.signer.Decode(ctx, token)
	if err != nil {
		return fosite.ErrTokenSignatureMismatch.WithWrap(err)
	}
	if err := t.Claims.Valid(); err != nil {
		return fosite.ErrTokenExpired.WithWrap(err)
	}
	return nil
}

// sessionRoles returns the roles claim a grant carries (set when the grant
// was made and rewritten at every refresh), or nil.
func sessionRoles(sess fosite.Session) any {
	if o, ok := sess.(*openid.DefaultSession); ok && o.Claims != nil {
		return o.Claims.Extra["roles"]
	}
	return nil
}
