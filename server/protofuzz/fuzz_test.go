package protofuzz

import (
	"net/http"
	"testing"
)

// FuzzAuthorizeRequest sends arbitrary authorization requests, as a GET
// query or a POST form.
func FuzzAuthorizeRequest(f *testing.F) {
	tg := newTarget(f)
	for _, q := range []string{
		"response_type=code&client_id=CODE_ID&redirect_uri=REDIRECT_URI&scope=openid&state=state-123456&nonce=nonce-123456&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256",
		"response_type=code&client_id=PUBLIC_ID&redirect_uri=REDIRECT_URI&scope=openid+offline_access&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256",
		"response_type=code&client_id=PUBLIC_ID&redirect_uri=REDIRECT_URI&code_challenge_method=plain&code_challenge=x",
		"response_type=token&client_id=CODE_ID&redirect_uri=REDIRECT_URI",
		"response_type=code&client_id=CODE_ID&redirect_uri=http://evil.example/cb",
		"response_type=code&client_id=CODE_ID&request=eyJhbGciOiJub25lIn0.e30.&redirect_uri=REDIRECT_URI",
		"response_type=code&client_id=CODE_ID&prompt=none+login&max_age=-1&redirect_uri=REDIRECT_URI&scope=openid",
		"client_id=%ff%00&redirect_uri=%zz",
		"",
	} {
		f.Add(false, q)
		f.Add(true, q)
	}
	f.Fuzz(func(t *testing.T, post bool, params string) {
		if post {
			tg.check(t, http.MethodPost, "/oauth2/auth", "", params, "")
		} else {
			tg.check(t, http.MethodGet, "/oauth2/auth", params, "", "")
		}
	})
}

// clientSeeds are form bodies and Authorization headers shared by the
// token, introspection and revocation targets.
var clientSeeds = []struct{ body, authorization string }{
	{"grant_type=client_credentials", "Basic SERVICE_BASIC"},
	{"grant_type=client_credentials&client_id=SERVICE_ID&client_secret=SERVICE_SECRET&scope=openid", ""},
	{"grant_type=authorization_code&code=abc.def&redirect_uri=REDIRECT_URI&code_verifier=0123456789012345678901234567890123456789abc", "Basic CODE_BASIC"},
	{"grant_type=refresh_token&refresh_token=ory_rt_abc.def", "Basic CODE_BASIC"},
	{"grant_type=authorization_code&code=x&client_id=PUBLIC_ID&code_verifier=short", ""},
	{"grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=a.b.c", ""},
	{"client_id=CODE_ID&client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer&client_assertion=eyJhbGciOiJSUzI1NiJ9.e30.sig&grant_type=client_credentials", ""},
	{"token=ACCESS_TOKEN", "Basic SERVICE_BASIC"},
	{"token=ACCESS_TOKEN&token_type_hint=refresh_token", "Basic SERVICE_BASIC"},
	{"token=ACCESS_TOKEN&client_id=PUBLIC_ID", ""},
	{"token=ACCESS_TOKEN", "Bearer ACCESS_TOKEN"},
	{"token=ory_at_x.y", "Basic Og=="},
	{"token=%ff&token=", "Basic !!!"},
	{"", ""},
}

func fuzzClientEndpoint(f *testing.F, path string) {
	tg := newTarget(f)
	for _, s := range clientSeeds {
		f.Add(s.body, s.authorization)
	}
	f.Fuzz(func(t *testing.T, body, authorization string) {
		tg.check(t, http.MethodPost, path, "", body, authorization)
	})
}

// FuzzTokenRequest sends arbitrary token requests.
func FuzzTokenRequest(f *testing.F) { fuzzClientEndpoint(f, "/oauth2/token") }

// FuzzIntrospectionRequest sends arbitrary introspection requests.
func FuzzIntrospectionRequest(f *testing.F) { fuzzClientEndpoint(f, "/oauth2/introspect") }

// FuzzRevocationRequest sends arbitrary revocation requests.
func FuzzRevocationRequest(f *testing.F) { fuzzClientEndpoint(f, "/oauth2/revoke") }
