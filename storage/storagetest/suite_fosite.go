package storagetest

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/openid"

	"github.com/gatehouse/gatehouse/storage"
)

// checkRequest compares a request read back from the store with the one
// stored, including the session decoded into an openid.DefaultSession.
func checkRequest(t *testing.T, got fosite.Requester, want *fosite.Request) {
	t.Helper()
	if got == nil {
		t.Fatal("nil request")
	}
	if got.GetID() != want.ID || got.GetClient().GetID() != want.Client.GetID() {
		t.Fatalf("request id/client: got %q/%q, want %q/%q", got.GetID(), got.GetClient().GetID(), want.ID, want.Client.GetID())
	}
	if _, ok := got.GetClient().(*storage.Client); !ok {
		t.Fatalf("request client is %T, want *storage.Client", got.GetClient())
	}
	if !got.GetRequestedAt().Equal(want.RequestedAt) || got.GetRequestedAt().Location() != time.UTC {
		t.Fatalf("requested at: got %v, want %v in UTC", got.GetRequestedAt(), want.RequestedAt)
	}
	for _, pair := range [][2]fosite.Arguments{
		{got.GetRequestedScopes(), want.RequestedScope},
		{got.GetGrantedScopes(), want.GrantedScope},
		{got.GetRequestedAudience(), want.RequestedAudience},
		{got.GetGrantedAudience(), want.GrantedAudience},
	} {
		if !reflect.DeepEqual(pair[0], pair[1]) {
			t.Fatalf("scopes/audience: got %v, want %v", pair[0], pair[1])
		}
	}
	sess, ok := got.GetSession().(*openid.DefaultSession)
	if !ok {
		t.Fatalf("session is %T, want *openid.DefaultSession", got.GetSession())
	}
	w := want.Session.(*openid.DefaultSession)
	if sess.Subject != w.Subject || sess.Username != w.Username || sess.Claims.Subject != w.Claims.Subject ||
		sess.Claims.Nonce != w.Claims.Nonce || !sess.Claims.AuthTime.Equal(w.Claims.AuthTime) ||
		!reflect.DeepEqual(sess.Claims.AuthenticationMethodsReferences, w.Claims.AuthenticationMethodsReferences) ||
		!reflect.DeepEqual(sess.Claims.Extra, w.Claims.Extra) || !reflect.DeepEqual(sess.Headers.Extra, w.Headers.Extra) {
		t.Fatalf("session round trip:\n got %+v %+v\nwant %+v %+v", sess, sess.Claims, w, w.Claims)
	}
	for _, tt := range []fosite.TokenType{fosite.AuthorizeCode, fosite.AccessToken, fosite.RefreshToken} {
		if !sess.GetExpiresAt(tt).Equal(w.GetExpiresAt(tt)) {
			t.Fatalf("session expiry of %s: got %v, want %v", tt, sess.GetExpiresAt(tt), w.GetExpiresAt(tt))
		}
	}
}

func testAuthorizeCode(t *testing.T, s storage.Store) {
	ctx := ctxT(t)
	client := seedClient(t, s, "app")
	want := newRequest(client, "req-1", "u-1")
	must(t, "create", s.CreateAuthorizeCodeSession(ctx, "code-sig", want))

	got, err := s.GetAuthorizeCodeSession(ctx, "code-sig", openid.NewDefaultSession())
	must(t, "get", err)
	checkRequest(t, got, want)

	must(t, "invalidate", s.InvalidateAuthorizeCodeSession(ctx, "code-sig"))
	got, err = s.GetAuthorizeCodeSession(ctx, "code-sig", openid.NewDefaultSession())
	if !errors.Is(err, fosite.ErrInvalidatedAuthorizeCode) {
		t.Fatalf("get used code: want ErrInvalidatedAuthorizeCode, got %v", err)
	}
	checkRequest(t, got, want) // fosite needs the request to revoke its tokens
	if err := s.InvalidateAuthorizeCodeSession(ctx, "code-sig"); !errors.Is(err, fosite.ErrInvalidatedAuthorizeCode) {
		t.Fatalf("second invalidate: want ErrInvalidatedAuthorizeCode, got %v", err)
	}

	_, err = s.GetAuthorizeCodeSession(ctx, "unknown", openid.NewDefaultSession())
	mustNotFound(t, "get unknown code", err)
	mustNotFound(t, "invalidate unknown code", s.InvalidateAuthorizeCodeSession(ctx, "unknown"))
	if err := s.CreateAuthorizeCodeSession(ctx, "code-sig", want); !errors.Is(err, storage.ErrAlreadyExists) {
		t.Fatalf("duplicate code: want ErrAlreadyExists, got %v", err)
	}
}

// testAuthorizeCodeMemo: within one token request (a context with a
// storage.CodeMemo) an active code is read from the database once; the
// conditional invalidation still decides between concurrent exchanges.
func testAuthorizeCodeMemo(t *testing.T, s storage.Store) {
	ctx := ctxT(t)
	client := seedClient(t, s, "app")
	want := newRequest(client, "req-1", "u-1")
	must(t, "create", s.CreateAuthorizeCodeSession(ctx, "code-sig", want))
	must(t, "create other", s.CreateAuthorizeCodeSession(ctx, "other-sig", newRequest(client, "req-2", "u-1")))

	request := storage.WithCodeMemo(ctx)
	got, err := s.GetAuthorizeCodeSession(request, "code-sig", openid.NewDefaultSession())
	must(t, "first read", err)
	checkRequest(t, got, want)

	// Another request exchanges the code in between: the memo still answers
	// the second read, and the invalidation is what fails.
	must(t, "concurrent exchange", s.InvalidateAuthorizeCodeSession(ctx, "code-sig"))
	got, err = s.GetAuthorizeCodeSession(request, "code-sig", openid.NewDefaultSession())
	must(t, "second read from the memo", err)
	checkRequest(t, got, want)
	err = s.InvalidateAuthorizeCodeSession(request, "code-sig")
	if !errors.Is(err, fosite.ErrInvalidatedAuthorizeCode) || !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("invalidate after losing the race: want ErrInvalidatedAuthorizeCode and ErrConflict, got %v", err)
	}

	// Another code is read from the database, and a used code is never
	// memoized.
	if _, err := s.GetAuthorizeCodeSession(request, "other-sig", openid.NewDefaultSession()); err != nil {
		t.Fatalf("read another code with the memo: %v", err)
	}
	used := storage.WithCodeMemo(ctx)
	for range 2 {
		if _, err := s.GetAuthorizeCodeSession(used, "code-sig", openid.NewDefaultSession()); !errors.Is(err, fosite.ErrInvalidatedAuthorizeCode) {
			t.Fatalf("read a used code with a memo: want ErrInvalidatedAuthorizeCode, got %v", err)
		}
	}
}

func testAccessToken(t *testing.T, s storage.Store) {
	ctx := ctxT(t)
	client := seedClient(t, s, "app")
	want := newRequest(client, "req-1", "u-1")
	must(t, "create", s.CreateAccessTokenSession(ctx, "at-1", want))
	must(t, "create second of request", s.CreateAccessTokenSession(ctx, "at-2", want))
	must(t, "create other request", s.CreateAccessTokenSession(ctx, "at-3", newRequest(client, "req-2", "u-1")))

	got, err := s.GetAccessTokenSession(ctx, "at-1", openid.NewDefaultSession())
	must(t, "get", err)
	checkRequest(t, got, want)

	// Revocation reads with a nil session: the request, id and client must
	// still come back.
	got, err = s.GetAccessTokenSession(ctx, "at-1", nil)
	must(t, "get with nil session", err)
	if got.GetID() != "req-1" || got.GetClient().GetID() != "app" {
		t.Fatalf("nil-session get: id %q client %q", got.GetID(), got.GetClient().GetID())
	}

	must(t, "delete", s.DeleteAccessTokenSession(ctx, "at-1"))
	_, err = s.GetAccessTokenSession(ctx, "at-1", nil)
	mustNotFound(t, "get deleted access token", err)

	must(t, "revoke request", s.RevokeAccessToken(ctx, "req-1"))
	_, err = s.GetAccessTokenSession(ctx, "at-2", nil)
	mustNotFound(t, "access token of revoked request", err)
	_, err = s.GetAccessTokenSession(ctx, "at-3", nil)
	must(t, "access token of another request", err)
}

// Rotation marks the used refresh token inactive but keeps it, so that a
// reuse returns the request with ErrInactiveToken; it also drops the access
// tokens of the request.
func testRefreshTokenRotation(t *testing.T, s storage.Store) {
	ctx := ctxT(t)
	client := seedClient(t, s, "app")
	want := newRequest(client, "req-1", "u-1")
	must(t, "create access", s.CreateAccessTokenSession(ctx, "at-1", want))
	must(t, "create refresh", s.CreateRefreshTokenSession(ctx, "rt-1", "at-1", want))

	got, err := s.GetRefreshTokenSession(ctx, "rt-1", openid.NewDefaultSession())
	must(t, "get", err)
	checkRequest(t, got, want)

	must(t, "rotate", s.RotateRefreshToken(ctx, "req-1", "rt-1"))
	got, err = s.GetRefreshTokenSession(ctx, "rt-1", openid.NewDefaultSession())
	if !errors.Is(err, fosite.ErrInactiveToken) {
		t.Fatalf("get rotated token: want ErrInactiveToken, got %v", err)
	}
	checkRequest(t, got, want)
	_, err = s.GetAccessTokenSession(ctx, "at-1", nil)
	mustNotFound(t, "access token after rotation", err)

	if err := s.RotateRefreshToken(ctx, "req-1", "rt-1"); !errors.Is(err, fosite.ErrSerializationFailure) || !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("rotating a used token: want ErrSerializationFailure and ErrConflict, got %v", err)
	}

	must(t, "create next", s.CreateRefreshTokenSession(ctx, "rt-2", "at-2", want))
	_, err = s.GetRefreshTokenSession(ctx, "rt-2", nil)
	must(t, "next token is active", err)

	must(t, "delete", s.DeleteRefreshTokenSession(ctx, "rt-2"))
	_, err = s.GetRefreshTokenSession(ctx, "rt-2", nil)
	mustNotFound(t, "deleted refresh token", err)
	_, err = s.GetRefreshTokenSession(ctx, "unknown", nil)
	mustNotFound(t, "unknown refresh token", err)
}

// The request id is constant along a refresh chain: revoking by request id
// revokes the whole family and nothing else.
func testRevokeFamily(t *testing.T, s storage.Store) {
	ctx := ctxT(t)
	client := seedClient(t, s, "app")
	family, other := newRequest(client, "req-family", "u-1"), newRequest(client, "req-other", "u-1")
	for _, sig := range []string{"rt-a", "rt-b", "rt-c"} {
		must(t, "create", s.CreateRefreshTokenSession(ctx, sig, "", family))
	}
	must(t, "create other", s.CreateRefreshTokenSession(ctx, "rt-other", "", other))
	must(t, "rotate a", s.RotateRefreshToken(ctx, "req-family", "rt-a"))

	must(t, "revoke family", s.RevokeRefreshToken(ctx, "req-family"))
	for _, sig := range []string{"rt-a", "rt-b", "rt-c"} {
		got, err := s.GetRefreshTokenSession(ctx, sig, openid.NewDefaultSession())
		if !errors.Is(err, fosite.ErrInactiveToken) || got == nil || got.GetID() != "req-family" {
			t.Fatalf("%s after family revocation: want request + ErrInactiveToken, got %v", sig, err)
		}
	}
	_, err := s.GetRefreshTokenSession(ctx, "rt-other", nil)
	must(t, "token of another family", err)
	must(t, "revoking again", s.RevokeRefreshToken(ctx, "req-family"))
	must(t, "revoking an unknown request", s.RevokeRefreshToken(ctx, "req-unknown"))
}

func testRevokeSubjectTokens(t *testing.T, s storage.Store) {
	ctx := ctxT(t)
	client := seedClient(t, s, "app")
	for _, u := range []string{"alice", "bob"} {
		r := newRequest(client, "req-"+u, u)
		must(t, "code", s.CreateAuthorizeCodeSession(ctx, "code-"+u, r))
		must(t, "access", s.CreateAccessTokenSession(ctx, "at-"+u, r))
		must(t, "refresh", s.CreateRefreshTokenSession(ctx, "rt-"+u, "at-"+u, r))
	}
	must(t, "revoke alice", s.RevokeSubjectTokens(ctx, "alice"))

	_, err := s.GetAccessTokenSession(ctx, "at-alice", nil)
	mustNotFound(t, "alice's access token", err)
	if _, err := s.GetRefreshTokenSession(ctx, "rt-alice", nil); !errors.Is(err, fosite.ErrInactiveToken) {
		t.Fatalf("alice's refresh token: want ErrInactiveToken, got %v", err)
	}
	if _, err := s.GetAuthorizeCodeSession(ctx, "code-alice", nil); !errors.Is(err, fosite.ErrInvalidatedAuthorizeCode) {
		t.Fatalf("alice's code: want ErrInvalidatedAuthorizeCode, got %v", err)
	}
	_, err = s.GetAccessTokenSession(ctx, "at-bob", nil)
	must(t, "bob's access token", err)
	_, err = s.GetRefreshTokenSession(ctx, "rt-bob", nil)
	must(t, "bob's refresh token", err)
	_, err = s.GetAuthorizeCodeSession(ctx, "code-bob", nil)
	must(t, "bob's code", err)

	if err := s.RevokeSubjectTokens(ctx, ""); err == nil {
		t.Fatal("RevokeSubjectTokens accepted an empty subject")
	}
}

// fosite hands CreateOpenIDConnectSession the raw code and reads the
// session back into the session of the token request.
func testOpenIDConnectSession(t *testing.T, s storage.Store) {
	ctx := ctxT(t)
	client := seedClient(t, s, "app")
	want := newRequest(client, "req-1", "u-1")
	must(t, "create", s.CreateOpenIDConnectSession(ctx, "raw-code.with-signature", want))

	tokenRequest := fosite.NewAccessRequest(openid.NewDefaultSession())
	got, err := s.GetOpenIDConnectSession(ctx, "raw-code.with-signature", tokenRequest)
	must(t, "get", err)
	checkRequest(t, got, want)
	if got.GetSession() != tokenRequest.GetSession() {
		t.Fatal("the session was not decoded into the requester's session")
	}
	if got.GetRequestForm().Get("nonce") != "nonce-req-1" {
		t.Fatalf("nonce lost from form: %v", got.GetRequestForm())
	}

	must(t, "delete", s.DeleteOpenIDConnectSession(ctx, "raw-code.with-signature"))
	_, err = s.GetOpenIDConnectSession(ctx, "raw-code.with-signature", tokenRequest)
	mustNotFound(t, "deleted oidc session", err)
}

func testPKCERequest(t *testing.T, s storage.Store) {
	ctx := ctxT(t)
	client := seedClient(t, s, "app")
	want := newRequest(client, "req-1", "u-1")
	must(t, "create", s.CreatePKCERequestSession(ctx, "code-sig", want))
	got, err := s.GetPKCERequestSession(ctx, "code-sig", openid.NewDefaultSession())
	must(t, "get", err)
	checkRequest(t, got, want)
	if got.GetRequestForm().Get("code_challenge") != "challenge-req-1" {
		t.Fatalf("code_challenge lost: %v", got.GetRequestForm())
	}
	must(t, "delete", s.DeletePKCERequestSession(ctx, "code-sig"))
	_, err = s.GetPKCERequestSession(ctx, "code-sig", nil)
	mustNotFound(t, "deleted pkce request", err)
}

// Secrets in the request form are never stored; other parameters are.
func testFormSanitized(t *testing.T, s storage.Store) {
	ctx := ctxT(t)
	client := seedClient(t, s, "app")
	r := newRequest(client, "req-1", "u-1")
	for _, k := range []string{"client_assertion", "code", "refresh_token", "password", "token"} {
		r.Form.Set(k, "secret-"+k)
	}
	must(t, "create", s.CreateAccessTokenSession(ctx, "at-1", r))
	got, err := s.GetAccessTokenSession(ctx, "at-1", nil)
	must(t, "get", err)
	form := got.GetRequestForm()
	for _, k := range []string{"client_secret", "client_assertion", "code", "code_verifier", "refresh_token", "password", "token"} {
		if form.Has(k) {
			t.Errorf("form parameter %q was stored", k)
		}
	}
	for _, k := range []string{"redirect_uri", "code_challenge", "nonce"} {
		if form.Get(k) != r.Form.Get(k) {
			t.Errorf("form parameter %q: got %q, want %q", k, form.Get(k), r.Form.Get(k))
		}
	}
}

func testClientAssertionJTI(t *testing.T, s storage.Store) {
	ctx := ctxT(t)
	must(t, "unknown jti is valid", s.ClientAssertionJWTValid(ctx, "jti-1"))
	must(t, "set", s.SetClientAssertionJWT(ctx, "jti-1", time.Now().Add(time.Hour)))
	if err := s.ClientAssertionJWTValid(ctx, "jti-1"); !errors.Is(err, fosite.ErrJTIKnown) {
		t.Fatalf("replayed jti: want ErrJTIKnown, got %v", err)
	}
	if err := s.SetClientAssertionJWT(ctx, "jti-1", time.Now().Add(time.Hour)); !errors.Is(err, fosite.ErrJTIKnown) {
		t.Fatalf("storing a known jti: want ErrJTIKnown, got %v", err)
	}
	// An expired jti no longer counts and may be stored again.
	must(t, "set expired", s.SetClientAssertionJWT(ctx, "jti-2", time.Now().Add(-time.Second)))
	must(t, "expired jti is valid", s.ClientAssertionJWTValid(ctx, "jti-2"))
	must(t, "re-set expired jti", s.SetClientAssertionJWT(ctx, "jti-2", time.Now().Add(time.Hour)))
	if err := s.ClientAssertionJWTValid(ctx, "jti-2"); !errors.Is(err, fosite.ErrJTIKnown) {
		t.Fatalf("re-stored jti: want ErrJTIKnown, got %v", err)
	}
}
