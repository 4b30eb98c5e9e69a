package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gatehouse/gatehouse/server/manage"
)

// The end-to-end benchmarks drive the real router over HTTP on loopback,
// with request logging on (into the suite's log capture), against SQLite
// and PostgreSQL (skipped like the tests when none is available):
//
//	go test -run '^$' -bench . -benchmem ./server
//
// benchConcurrency requests are in flight at once (issue 8's c=32): the
// server sees the concurrency of a loaded service, and the load runs on the
// same cores as the server, as the load tests do. ns/op is wall
// time per request across all of them, so 1e9/ns_op is requests per second.
// No figure is asserted anywhere: a slow machine never fails a benchmark.
//
// RunParallel repeats the benchmark function with a growing b.N, and each
// round starts a fresh server and database (cleanups run after each round);
// the setup is not timed.
const benchConcurrency = 32

// benchEachBackend runs f as the sqlite and postgres sub-benchmarks of b.
func benchEachBackend(b *testing.B, f func(b *testing.B, e *env)) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			f(b, newEnv(b, be.dsn(b)))
		})
	}
}

// benchClient is an HTTP client that keeps a connection per goroutine
// alive, as a load generator or a resource server's pool does: no
// connection setup in the measured requests, no ports left in TIME_WAIT.
func benchClient(b *testing.B) *http.Client {
	tr := &http.Transport{MaxIdleConns: 2 * benchConcurrency, MaxIdleConnsPerHost: 2 * benchConcurrency}
	b.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// runParallel runs body from benchConcurrency goroutines until b.N requests
// were made; worker is the goroutine's index, for per-goroutine state. The
// first failing request fails the benchmark and stops every goroutine's work.
func runParallel(b *testing.B, body func(worker int) error) {
	b.ReportAllocs()
	b.SetParallelism(parallelism())
	var started atomic.Int64
	var failed atomic.Bool
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		worker := int(started.Add(1) - 1)
		for pb.Next() {
			if failed.Load() {
				continue
			}
			if err := body(worker); err != nil {
				if !failed.Swap(true) {
					b.Error(err)
				}
			}
		}
	})
	b.StopTimer()
}

// parallelism is the b.SetParallelism that gives at least benchConcurrency
// goroutines.
func parallelism() int {
	procs := runtime.GOMAXPROCS(0)
	return max(1, (benchConcurrency+procs-1)/procs)
}

// workers is the number of goroutines runParallel starts.
func workers() int { return parallelism() * runtime.GOMAXPROCS(0) }

// post sends a form with HTTP basic client authentication and returns the
// status and body.
func post(c *http.Client, endpoint string, form url.Values, user, pass string) (int, []byte, error) {
	req, err := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(user), url.QueryEscape(pass))
	return send(c, req)
}

func send(c *http.Client, req *http.Request) (int, []byte, error) {
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, body, err
}

// benchStatusError reports an unexpected answer.
type benchStatusError struct {
	what   string
	status int
	body   []byte
}

func (e *benchStatusError) Error() string {
	if e.status == http.StatusOK {
		// A success that lacks what was expected: its body may hold tokens.
		return e.what + ": unexpected 200 response"
	}
	return fmt.Sprintf("%s: status %d: %s", e.what, e.status, e.body)
}

// apiClient registers a client-credentials client holding a role that
// carries api:read, as a service calling an API would be set up.
func apiClient(e *env) (id, secret string) {
	e.t.Helper()
	e.role(manage.RoleSpec{Name: "api-reader", Scopes: []string{"api:read"}})
	c, s := e.client(manage.ClientSpec{Name: "Service", GrantTypes: []string{"client_credentials"}, Scopes: []string{"api:read"}})
	e.grantClient(c.ID, "api-reader")
	return c.ID, s
}

// clientCredentialsToken gets an opaque access token for the client.
func clientCredentialsToken(e *env, c *http.Client, id, secret string) string {
	e.t.Helper()
	status, body, err := post(c, e.issuer+"/oauth2/token", url.Values{"grant_type": {"client_credentials"}, "scope": {"api:read"}}, id, secret)
	if err != nil || status != http.StatusOK {
		e.t.Fatalf("client_credentials: %d %s %v", status, body, err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(body, &tok); err != nil || tok.AccessToken == "" {
		e.t.Fatalf("client_credentials response: %s %v", body, err)
	}
	remember(tok.AccessToken)
	return tok.AccessToken
}

// BenchmarkTokenClientCredentials measures the token endpoint issuing an
// opaque access token to a client authenticated by client_secret_basic:
// client lookup and secret check, the client's roles, one token row
// written, the request log line (issue 8: ≥ 2,500 tokens/s at c=32).
func BenchmarkTokenClientCredentials(b *testing.B) {
	benchEachBackend(b, func(b *testing.B, e *env) {
		id, secret := apiClient(e)
		c := benchClient(b)
		clientCredentialsToken(e, c, id, secret) // warm the connection and the router
		endpoint := e.issuer + "/oauth2/token"
		form := url.Values{"grant_type": {"client_credentials"}, "scope": {"api:read"}}
		runParallel(b, func(int) error {
			status, body, err := post(c, endpoint, form, id, secret)
			if err != nil {
				return err
			}
			if status != http.StatusOK || !bytes.Contains(body, []byte(`"access_token"`)) {
				return &benchStatusError{"client_credentials", status, body}
			}
			return nil
		})
	})
}

// BenchmarkIntrospection measures RFC 7662 introspection of other clients'
// opaque access tokens (a pool of them) by a resource server authenticated
// by client_secret_basic whose role carries gatehouse:introspect: client
// authentication, the token's HMAC and row, the caller's roles (issue 8:
// ≥ 5,000/s at c=32).
func BenchmarkIntrospection(b *testing.B) {
	benchEachBackend(b, func(b *testing.B, e *env) {
		c := benchClient(b)
		id, secret := apiClient(e)
		pool := make([]string, 64)
		for i := range pool {
			pool[i] = clientCredentialsToken(e, c, id, secret)
		}
		e.role(manage.RoleSpec{Name: "resource-server", Scopes: []string{"gatehouse:introspect"}})
		rs, rsSecret := e.client(manage.ClientSpec{Name: "Resource server", GrantTypes: []string{"client_credentials"}, Scopes: []string{"gatehouse:introspect"}})
		e.grantClient(rs.ID, "resource-server")
		if got := e.introspect(pool[0], rs.ID, rsSecret); got["active"] != true || got["client_id"] != id {
			b.Fatalf("introspection of another client's token: %v", got)
		}
		endpoint := e.issuer + "/oauth2/introspect"
		var next atomic.Uint64
		runParallel(b, func(int) error {
			token := pool[next.Add(1)%uint64(len(pool))]
			status, body, err := post(c, endpoint, url.Values{"token": {token}}, rs.ID, rsSecret)
			if err != nil {
				return err
			}
			if status != http.StatusOK || !bytes.Contains(body, []byte(`"active":true`)) {
				return &benchStatusError{"introspection", status, body}
			}
			return nil
		})
	})
}

// BenchmarkUserInfo measures the userinfo endpoint with a user's opaque
// access token in the Authorization header: the token's HMAC and row, the
// user's record, the claims of the granted scopes.
func BenchmarkUserInfo(b *testing.B) {
	benchEachBackend(b, func(b *testing.B, e *env) {
		sub, pw := e.user("ann")
		app, appSecret := e.client(manage.ClientSpec{SkipConsent: true})
		tok := e.rp(app, appSecret, "openid", "profile", "email").fullLogin(newBrowser(b), person{"ann", pw, ""})
		c := benchClient(b)
		endpoint := e.issuer + "/userinfo"
		authorization := "Bearer " + tok.AccessToken
		want := []byte(`"sub":"` + sub + `"`)
		runParallel(b, func(int) error {
			req, err := http.NewRequest(http.MethodGet, endpoint, nil)
			if err != nil {
				return err
			}
			req.Header.Set("Authorization", authorization)
			status, body, err := send(c, req)
			if err != nil {
				return err
			}
			if status != http.StatusOK || !bytes.Contains(body, want) {
				return &benchStatusError{"userinfo", status, body}
			}
			return nil
		})
	})
}

// BenchmarkRefresh measures refresh-token rotation: each goroutine walks
// its own chain (a user's login), presenting every refresh token exactly
// once; the old tokens are revoked and new ones written in one transaction,
// with a new ID token (issue 8: ≥ 800/s at c=32, zero errors).
func BenchmarkRefresh(b *testing.B) {
	benchEachBackend(b, func(b *testing.B, e *env) {
		app, appSecret := e.client(manage.ClientSpec{SkipConsent: true})
		r := e.rp(app, appSecret)
		chains := make([]string, workers())
		_, pw := e.user("ann")
		for i := range chains {
			chains[i] = r.fullLogin(newBrowser(b), person{"ann", pw, ""}).RefreshToken
		}
		c := benchClient(b)
		endpoint := e.issuer + "/oauth2/token"
		runParallel(b, func(worker int) error {
			form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {chains[worker]}}
			status, body, err := post(c, endpoint, form, app.ID, appSecret)
			if err != nil {
				return err
			}
			var tok struct {
				RefreshToken string `json:"refresh_token"`
			}
			if status != http.StatusOK || json.Unmarshal(body, &tok) != nil || tok.RefreshToken == "" {
				return &benchStatusError{"refresh", status, body}
			}
			chains[worker] = tok.RefreshToken
			return nil
		})
		// The last token of each chain: none of them may be in the log.
		remember(chains...)
	})
}

// BenchmarkAuthorizationCode measures a web app's whole authorization with
// a signed-in browser and remembered consent (issue 8: ≥ 300 flows/s at
// c=32): the authorization request answered with a code (browser session,
// user, consent, the code's rows), then the code exchanged with PKCE for an
// access token, a refresh token and an RS256 ID token. One op is one flow.
func BenchmarkAuthorizationCode(b *testing.B) {
	benchEachBackend(b, func(b *testing.B, e *env) {
		app, appSecret := e.client(manage.ClientSpec{SkipConsent: true})
		r := e.rp(app, appSecret)
		_, pw := e.user("ann")
		c := benchClient(b)
		browsers := make([]*browser, workers())
		for i := range browsers {
			browsers[i] = newBrowser(b)
			browsers[i].Transport = c.Transport
			r.fullLogin(browsers[i], person{"ann", pw, ""})
		}
		endpoint := e.issuer + "/oauth2/token"
		var last atomic.Value
		runParallel(b, func(worker int) error {
			a := r.authURL()
			req, err := http.NewRequest(http.MethodGet, a.url, nil)
			if err != nil {
				return err
			}
			resp, err := browsers[worker].Do(req)
			if err != nil {
				return err
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			location, err := resp.Location()
			if resp.StatusCode != http.StatusSeeOther || err != nil || location.Query().Get("code") == "" {
				return &benchStatusError{"authorize", resp.StatusCode, []byte(resp.Header.Get("Location"))}
			}
			code := location.Query().Get("code")
			form := url.Values{"grant_type": {"authorization_code"}, "code": {code},
				"redirect_uri": {app.RedirectURIs[0]}, "code_verifier": {a.verifier}}
			status, body, err := post(c, endpoint, form, app.ID, appSecret)
			if err != nil {
				return err
			}
			var tok struct {
				AccessToken string `json:"access_token"`
				IDToken     string `json:"id_token"`
			}
			if status != http.StatusOK || json.Unmarshal(body, &tok) != nil || tok.AccessToken == "" || tok.IDToken == "" {
				return &benchStatusError{"exchange", status, body}
			}
			last.Store([]string{code, tok.AccessToken, tok.IDToken})
			return nil
		})
		// The last flow's secrets: none of them may be in the log.
		if v, ok := last.Load().([]string); ok {
			remember(v...)
		}
	})
}
