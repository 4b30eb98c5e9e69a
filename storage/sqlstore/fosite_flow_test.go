package sqlstore

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/compose"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/fosite/token/jwt"

	"github.com/gatehouse/gatehouse/storage"
)

// TestFositeFlows drives fosite itself against the store: code + PKCE with
// an ID token, refresh rotation, reuse detection revoking the family, code
// reuse revoking its tokens, and revocation. fosite runs code exchange and
// rotation inside BeginTX/Commit, so on SQLite this also proves that no
// query escapes the transaction (it would deadlock on the one connection).
func TestFositeFlows(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			s := migratedStore(t, d.dsn(t))
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			testFositeFlows(ctx, t, s)
		})
	}
}

type flow struct {
	t        *testing.T
	provider fosite.OAuth2Provider
	store    *Store
	strategy *compose.CommonStrategy
}

func testFositeFlows(ctx context.Context, t *testing.T, s *Store) {
	client := &storage.Client{
		ID: "spa", Public: true, TokenEndpointAuthMethod: storage.AuthMethodNone,
		RedirectURIs: []string{"https://spa.example/cb"},
		GrantTypes:   []string{"authorization_code", "refresh_token"},
		Scopes:       []string{"openid", "offline_access"},
	}
	if err := s.CreateClient(ctx, client); err != nil {
		t.Fatal(err)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	config := &fosite.Config{
		GlobalSecret:                []byte("0123456789abcdef0123456789abcdef"),
		EnforcePKCEForPublicClients: true,
		IDTokenIssuer:               "https://issuer.example",
		ScopeStrategy:               fosite.ExactScopeStrategy,
		AudienceMatchingStrategy:    fosite.DefaultAudienceMatchingStrategy,
	}
	keyGetter := func(context.Context) (interface{}, error) { return key, nil }
	strategy := &compose.CommonStrategy{
		CoreStrategy:               compose.NewOAuth2HMACStrategy(config),
		OpenIDConnectTokenStrategy: compose.NewOpenIDConnectStrategy(keyGetter, config),
		Signer:                     &jwt.DefaultSigner{GetPrivateKey: keyGetter},
	}
	f := &flow{t: t, store: s, strategy: strategy, provider: compose.Compose(config, s, strategy,
		compose.OAuth2AuthorizeExplicitFactory, compose.OAuth2RefreshTokenGrantFactory,
		compose.OAuth2TokenRevocationFactory, compose.OAuth2PKCEFactory,
		compose.OpenIDConnectExplicitFactory, compose.OpenIDConnectRefreshFactory,
	)}

	// Code + PKCE, with an ID token.
	code, verifier := f.authorize(ctx, "alice")
	tokens, err := f.token(ctx, url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {"https://spa.example/cb"}, "code_verifier": {verifier}})
	if err != nil {
		t.Fatalf("code exchange: %v", err)
	}
	if tokens["id_token"] == "" || tokens["refresh_token"] == "" {
		t.Fatalf("code exchange: missing tokens in %v", tokens)
	}
	// Code reuse fails and revokes the tokens issued from the code.
	if _, err := f.token(ctx, url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {"https://spa.example/cb"}, "code_verifier": {verifier}}); !errors.Is(err, fosite.ErrInvalidGrant) {
		t.Fatalf("code reuse: want invalid_grant, got %v", err)
	}
	if f.accessActive(ctx, tokens["access_token"]) {
		t.Fatal("the access token of a reused code is still active")
	}

	// Refresh rotation, then reuse of the old token revokes the family.
	code, verifier = f.authorize(ctx, "bob")
	first, err := f.token(ctx, url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {"https://spa.example/cb"}, "code_verifier": {verifier}})
	if err != nil {
		t.Fatalf("code exchange: %v", err)
	}
	second, err := f.token(ctx, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {first["refresh_token"]}})
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if f.accessActive(ctx, first["access_token"]) || !f.accessActive(ctx, second["access_token"]) {
		t.Fatal("rotation must retire the old access token and keep the new one")
	}
	if _, err := f.token(ctx, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {first["refresh_token"]}}); !errors.Is(err, fosite.ErrInvalidGrant) {
		t.Fatalf("refresh token reuse: want invalid_grant, got %v", err)
	}
	if _, err := f.token(ctx, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {second["refresh_token"]}}); err == nil {
		t.Fatal("after reuse detection the newest refresh token of the family still works")
	}
	if f.accessActive(ctx, second["access_token"]) {
		t.Fatal("after reuse detection the family's access token is still active")
	}

	// Revocation of a refresh token revokes its access token too.
	code, verifier = f.authorize(ctx, "carol")
	third, err := f.token(ctx, url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {"https://spa.example/cb"}, "code_verifier": {verifier}})
	if err != nil {
		t.Fatalf("code exchange: %v", err)
	}
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/revoke", strings.NewReader(url.Values{
		"token": {third["refresh_token"]}, "client_id": {"spa"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if err := f.provider.NewRevocationRequest(ctx, req); err != nil {
		t.Fatalf("revocation: %v", err)
	}
	if f.accessActive(ctx, third["access_token"]) {
		t.Fatal("revoking the refresh token left its access token active")
	}
}

// authorize runs an authorization request for subject and returns the code
// and the PKCE verifier.
func (f *flow) authorize(ctx context.Context, subject string) (code, verifier string) {
	f.t.Helper()
	verifier = subject + "-" + strings.Repeat("v", 50) // PKCE wants 43 to 128 characters
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{
		"client_id": {"spa"}, "response_type": {"code"}, "redirect_uri": {"https://spa.example/cb"},
		"scope": {"openid offline_access"}, "state": {"state-0123456789"}, "nonce": {"nonce-0123456789"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"},
	}
	req := httptest.NewRequestWithContext(ctx, http.MethodGet, "/auth?"+q.Encode(), nil)
	ar, err := f.provider.NewAuthorizeRequest(ctx, req)
	if err != nil {
		f.t.Fatalf("authorize request: %v", err)
	}
	ar.GrantScope("openid")
	ar.GrantScope("offline_access")
	sess := openid.NewDefaultSession()
	sess.Subject, sess.Claims.Subject = subject, subject
	sess.Claims.AuthTime = time.Now().UTC()
	resp, err := f.provider.NewAuthorizeResponse(ctx, ar, sess)
	if err != nil {
		f.t.Fatalf("authorize response: %v", err)
	}
	return resp.GetCode(), verifier
}

// token runs a token request of the public client and returns the response
// fields.
func (f *flow) token(ctx context.Context, form url.Values) (map[string]string, error) {
	form.Set("client_id", "spa")
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	ar, err := f.provider.NewAccessRequest(ctx, req, openid.NewDefaultSession())
	if err != nil {
		return nil, err
	}
	resp, err := f.provider.NewAccessResponse(ctx, ar)
	if err != nil {
		return nil, err
	}
	out := map[string]string{"access_token": resp.GetAccessToken()}
	for _, k := range []string{"refresh_token", "id_token"} {
		if v, ok := resp.GetExtra(k).(string); ok {
			out[k] = v
		}
	}
	return out, nil
}

// accessActive reports whether the store still holds an access token.
func (f *flow) accessActive(ctx context.Context, token string) bool {
	sig := f.strategy.AccessTokenSignature(ctx, token)
	_, err := f.store.GetAccessTokenSession(ctx, sig, openid.NewDefaultSession())
	if err != nil && !errors.Is(err, fosite.ErrNotFound) {
		f.t.Fatalf("look up access token: %v", err)
	}
	return err == nil
}
