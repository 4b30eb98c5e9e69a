package keys

import (
	"context"
	"errors"
	"net/url"
	"testing"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/oauth2"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/fosite/token/jwt"
)

// These tests run the signer inside fosite's own strategies, which inspect
// its errors with errors.As and read the token Decode returns.

func TestFositeJWTAccessTokens(t *testing.T) {
	ctx := context.Background()
	m, _ := readyManager(t)
	strategy := &oauth2.DefaultJWTStrategy{
		Signer: m.Signer(),
		Config: &fosite.Config{AccessTokenIssuer: "https://issuer.example"},
	}
	request := func(expiresAt time.Time) *fosite.Request {
		r := fosite.NewRequest()
		r.Client = &fosite.DefaultClient{ID: "client-1"}
		r.GrantScope("openid")
		r.Session = &oauth2.JWTSession{
			JWTClaims: &jwt.JWTClaims{Subject: "user-1"},
			JWTHeader: &jwt.Headers{Extra: map[string]any{"typ": "at+jwt"}},
			ExpiresAt: map[fosite.TokenType]time.Time{fosite.AccessToken: expiresAt},
		}
		return r
	}

	live, sig, err := strategy.GenerateAccessToken(ctx, request(time.Now().Add(time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	if strategy.AccessTokenSignature(ctx, live) != sig {
		t.Fatal("signature mismatch")
	}
	if got := kidOf(t, live); got != mustActive(t, m, AlgRS256) {
		t.Fatalf("access token kid %q, want the active RS256 key", got)
	}
	expired, _, err := strategy.GenerateAccessToken(ctx, request(time.Now().Add(-time.Hour)))
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name  string
		token string
		want  error
	}{
		{"live", live, nil},
		{"expired", expired, fosite.ErrTokenExpired},
		{"bad signature", live[:len(live)-4] + "AAAA", fosite.ErrTokenSignatureMismatch},
		{"malformed", "abc", fosite.ErrInvalidTokenFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := strategy.ValidateAccessToken(ctx, nil, tt.token)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("ValidateAccessToken: %v", err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("ValidateAccessToken: %v, want %v", err, tt.want)
			}
		})
	}
}

func TestFositeIDTokenWithExpiredHint(t *testing.T) {
	ctx := context.Background()
	m, _ := readyManager(t)
	strategy := openid.DefaultStrategy{
		Signer: m.Signer(),
		Config: &fosite.Config{IDTokenIssuer: "https://issuer.example", MinParameterEntropy: 8},
	}
	newRequest := func(form url.Values, exp time.Time) *fosite.Request {
		sess := openid.NewDefaultSession()
		sess.Claims.Subject = "user-1"
		sess.Claims.ExpiresAt = exp
		sess.Claims.AuthTime = time.Now().UTC()
		sess.Claims.RequestedAt = time.Now().UTC()
		sess.Headers.Add("alg", AlgES256)
		r := fosite.NewRequest()
		r.Client = &fosite.DefaultClient{ID: "client-1"}
		r.Form = form
		r.Session = sess
		return r
	}

	// An expired ID token is still a valid id_token_hint.
	hint, _, err := m.Signer().Generate(ctx, jwt.MapClaims{"sub": "user-1", "exp": time.Now().Add(-time.Minute).Unix()}, &jwt.Headers{})
	if err != nil {
		t.Fatal(err)
	}
	token, err := strategy.GenerateIDToken(ctx, 0, newRequest(url.Values{"id_token_hint": {hint}}, time.Now().Add(time.Hour)))
	if err != nil {
		t.Fatalf("GenerateIDToken with an expired hint: %v", err)
	}
	if got := kidOf(t, token); got != mustActive(t, m, AlgES256) {
		t.Fatalf("ES256-hinted ID token signed by %q, want the active ES256 key", got)
	}

	// A hint for another subject is refused, which needs the decoded claims.
	other, _, err := m.Signer().Generate(ctx, jwt.MapClaims{"sub": "user-2", "exp": time.Now().Add(time.Hour).Unix()}, &jwt.Headers{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := strategy.GenerateIDToken(ctx, 0, newRequest(url.Values{"id_token_hint": {other}}, time.Now().Add(time.Hour))); err == nil {
		t.Fatal("id_token_hint of another subject accepted")
	}
}
