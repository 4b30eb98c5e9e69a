package sqlstore

import (
	"net/url"
	"testing"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/fosite/token/jwt"

	"github.com/gatehouse/gatehouse/storage"
)

// benchRequest is a typical token row's request: an authorization-code
// grant of a user with profile and email scopes, its openid.DefaultSession
// as the provider builds it (ID token claims with sid and roles, the
// signing alg, expiries) and the token request's form.
func benchRequest(client *storage.Client) *fosite.Request {
	now := time.Now().UTC().Truncate(time.Second)
	sess := &openid.DefaultSession{
		Claims: &jwt.IDTokenClaims{
			Issuer:                              "https://id.example",
			Subject:                             "user-0123456789abcdef",
			Audience:                            []string{client.ID},
			Nonce:                               "n-0123456789abcdef",
			AuthTime:                            now.Add(-time.Minute),
			RequestedAt:                         now,
			IssuedAt:                            now,
			ExpiresAt:                           now.Add(15 * time.Minute),
			AuthenticationMethodsReferences:     []string{"pwd", "otp", "mfa"},
			AuthenticationContextClassReference: "urn:gatehouse:acr:mfa",
			Extra: map[string]interface{}{
				"preferred_username": "ann",
				"name":               "Ann Example",
				"updated_at":         now.Unix(),
				"email":              "ann@example.com",
				"email_verified":     true,
				"sid":                "s-0123456789abcdef0123456789abcdef",
				"roles":              []string{"staff", "reader"},
			},
		},
		Headers:  &jwt.Headers{Extra: map[string]interface{}{"alg": "RS256"}},
		Subject:  "user-0123456789abcdef",
		Username: "ann",
		ExpiresAt: map[fosite.TokenType]time.Time{
			fosite.AccessToken:   now.Add(15 * time.Minute),
			fosite.RefreshToken:  now.Add(30 * 24 * time.Hour),
			fosite.AuthorizeCode: now.Add(5 * time.Minute),
			fosite.IDToken:       now.Add(15 * time.Minute),
		},
	}
	return &fosite.Request{
		ID:             "req-0123456789abcdef0123456789",
		RequestedAt:    now,
		Client:         client,
		RequestedScope: fosite.Arguments{"openid", "profile", "email", "offline_access"},
		GrantedScope:   fosite.Arguments{"openid", "profile", "email", "offline_access"},
		Form: url.Values{
			"grant_type":    {"authorization_code"},
			"code":          {"ory_ac_secret-is-stripped"},
			"code_verifier": {"verifier-is-stripped"},
			"redirect_uri":  {"https://app.example/callback"},
			"client_id":     {client.ID},
		},
		Session: sess,
	}
}

// BenchmarkRequestCodec measures what every fosite row (code, access and
// refresh token, OIDC and PKCE session) costs to store and load, apart from
// the SQL: encode is the row built from the request (session JSON, form
// without secrets) with its list columns; decode is the request rebuilt
// from the row's columns and its client (read by the same query)
// (go test -run '^$' -bench RequestCodec ./storage/sqlstore).
func BenchmarkRequestCodec(b *testing.B) {
	client := &storage.Client{
		ID: "client-0123456789", Name: "App", SecretDigest: []byte("digest"),
		RedirectURIs: []string{"https://app.example/callback"},
		GrantTypes:   []string{"authorization_code", "refresh_token"}, ResponseTypes: []string{"code"},
		Scopes:                  []string{"openid", "profile", "email", "offline_access"},
		TokenEndpointAuthMethod: storage.AuthMethodClientSecretBasic,
		AccessTokenFormat:       storage.AccessTokenOpaque,
	}
	req := benchRequest(client)
	expiresAt := timePtr(time.Now().Add(time.Hour))
	key := digest("ory_at_signature-0123456789abcdef")

	b.Run("encode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			m, err := encodeRequest(key, req, expiresAt)
			if err != nil {
				b.Fatal(err)
			}
			for _, l := range []stringList{m.Scopes, m.GrantedScopes, m.Audience, m.GrantedAudience} {
				if _, err := l.Value(); err != nil {
					b.Fatal(err)
				}
			}
		}
	})

	row, err := encodeRequest(key, req, expiresAt)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("session_data: %d bytes, form: %q", len(row.SessionData), row.Form)
	// The list columns as the driver returns them.
	var columns [4]string
	for i, l := range []stringList{row.Scopes, row.GrantedScopes, row.Audience, row.GrantedAudience} {
		v, err := l.Value()
		if err != nil {
			b.Fatal(err)
		}
		columns[i] = v.(string)
	}

	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			m := row
			for i, l := range []*stringList{&m.Scopes, &m.GrantedScopes, &m.Audience, &m.GrantedAudience} {
				if err := l.Scan(columns[i]); err != nil {
					b.Fatal(err)
				}
			}
			got, err := decodeRequest(&m, client, &openid.DefaultSession{})
			if err != nil {
				b.Fatal(err)
			}
			if got.GetSession().GetSubject() == "" || len(got.GetGrantedScopes()) != 4 {
				b.Fatal("the request did not survive the round trip")
			}
		}
	})
}
