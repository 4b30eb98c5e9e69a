package storagetest

import (
	"context"
	"errors"
	"net/url"
	"testing"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/fosite/token/jwt"

	"github.com/gatehouse/gatehouse/storage"
)

// Run runs the conformance suite. newStore must return a fresh, migrated,
// empty store for each call and close it when t ends. Subtests run in
// parallel, each on its own store.
func Run(t *testing.T, newStore func(t *testing.T) storage.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s storage.Store)
	}{
		{"Clients", testClients},
		{"Users", testUsers},
		{"UsernameUniqueness", testUsernameUniqueness},
		{"BrowserSessions", testBrowserSessions},
		{"AuthRequests", testAuthRequests},
		{"Consents", testConsents},
		{"SigningKeys", testSigningKeys},
		{"DeleteUserCascades", testDeleteUserCascades},
		{"DeleteClientCascades", testDeleteClientCascades},
		{"AuthorizeCode", testAuthorizeCode},
		{"AuthorizeCodeMemo", testAuthorizeCodeMemo},
		{"AccessToken", testAccessToken},
		{"RefreshTokenRotation", testRefreshTokenRotation},
		{"RevokeFamily", testRevokeFamily},
		{"RevokeSubjectTokens", testRevokeSubjectTokens},
		{"OpenIDConnectSession", testOpenIDConnectSession},
		{"PKCERequest", testPKCERequest},
		{"FormSanitized", testFormSanitized},
		{"ClientAssertionJTI", testClientAssertionJTI},
		{"Transactions", testTransactions},
		{"WriteOnlyTransactions", testWriteOnlyTransactions},
		{"Prefetch", testPrefetch},
		{"ConcurrentRefresh", testConcurrentRefresh},
		{"UTCRoundTrip", testUTCRoundTrip},
		{"DeleteExpired", testDeleteExpired},
		{"Ping", testPing},
		{"Roles", testRoles},
		{"RoleAssignments", testRoleAssignments},
		{"ListUserConsents", testListUserConsents},
		{"VerifiedEmailUniqueness", testVerifiedEmailUniqueness},
		{"MailTokens", testMailTokens},
		{"MailTokenExpiryAndCascade", testMailTokenExpiryAndCascade},
		{"ConcurrentMailTokenUse", testConcurrentMailTokenUse},
		{"SessionClients", testSessionClients},
		{"ConnectedApps", testConnectedApps},
		{"AttemptCounters", testAttemptCounters},
		{"SignInEvents", testSignInEvents},
		{"RequireMFAFlags", testRequireMFAFlags},
		{"TOTPEnrollment", testTOTPEnrollment},
		{"TOTPCredential", testTOTPCredential},
		{"ConcurrentTOTPStep", testConcurrentTOTPStep},
		{"RecoveryCodes", testRecoveryCodes},
		{"DeleteSecondFactor", testDeleteSecondFactor},
		{"ClientSecretRotation", testClientSecretRotation},
		{"RegistrationTokenDigest", testRegistrationTokenDigest},
		{"RolesReadWithHolders", testRolesReadWithHolders},
		{"OrphanTokenUnreadable", testOrphanTokenUnreadable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newStore(t))
		})
	}
}

// ctxT returns a context that ends with the test, bounded so that a
// deadlock fails the test instead of hanging the run.
func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// mustNotFound fails t unless err is both storage.ErrNotFound and
// fosite.ErrNotFound.
func mustNotFound(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, storage.ErrNotFound) || !errors.Is(err, fosite.ErrNotFound) {
		t.Fatalf("%s: want ErrNotFound (storage and fosite), got %v", what, err)
	}
}

func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// seedClient creates a confidential client with the given id.
func seedClient(t *testing.T, s storage.Store, id string) *storage.Client {
	t.Helper()
	c := &storage.Client{
		ID:           id,
		SecretDigest: []byte("v1:digest-of-" + id),
		Name:         "Client " + id,
		RedirectURIs: []string{"https://" + id + ".example/cb"},
		GrantTypes:   []string{"authorization_code", "refresh_token"},
		Scopes:       []string{"openid", "profile", "offline_access"},
	}
	must(t, "create client "+id, s.CreateClient(ctxT(t), c))
	return c
}

// seedUser creates a user with the given id and username.
func seedUser(t *testing.T, s storage.Store, id, username string) *storage.User {
	t.Helper()
	u := &storage.User{ID: id, Username: username, Email: username + "@example.org", PasswordHash: "$argon2id$v=19$x"}
	must(t, "create user "+id, s.CreateUser(ctxT(t), u))
	return u
}

// newRequest builds a fosite request the way fosite's handlers hand it to
// storage: an OpenID Connect session with the subject, expiries for every
// token type, and a form that includes secrets the store must drop.
func newRequest(client fosite.Client, requestID, subject string) *fosite.Request {
	now := time.Now().UTC().Truncate(time.Second)
	sess := &openid.DefaultSession{
		Claims: &jwt.IDTokenClaims{
			Subject:                         subject,
			Nonce:                           "nonce-" + requestID,
			AuthTime:                        now.Add(-time.Minute),
			RequestedAt:                     now,
			AuthenticationMethodsReferences: []string{"pwd"},
			Extra:                           map[string]interface{}{"sid": "sid-" + requestID},
		},
		Headers:  &jwt.Headers{Extra: map[string]interface{}{"kid": "key-1"}},
		Subject:  subject,
		Username: "name-of-" + subject,
		ExpiresAt: map[fosite.TokenType]time.Time{
			fosite.AuthorizeCode: now.Add(time.Minute),
			fosite.AccessToken:   now.Add(15 * time.Minute),
			fosite.RefreshToken:  now.Add(30 * 24 * time.Hour),
		},
	}
	return &fosite.Request{
		ID:                requestID,
		RequestedAt:       now,
		Client:            client,
		RequestedScope:    fosite.Arguments{"openid", "offline_access"},
		GrantedScope:      fosite.Arguments{"openid", "offline_access"},
		RequestedAudience: fosite.Arguments{"https://api.example"},
		GrantedAudience:   fosite.Arguments{"https://api.example"},
		Form: url.Values{
			"redirect_uri":   {"https://app.example/cb"},
			"code_challenge": {"challenge-" + requestID},
			"nonce":          {"nonce-" + requestID},
			"client_secret":  {"secret-must-not-be-stored"},
			"code_verifier":  {"verifier-must-not-be-stored"},
		},
		Session: sess,
	}
}
