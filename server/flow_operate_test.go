package server_test

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gatehouse/gatehouse/server"
	"github.com/gatehouse/gatehouse/server/manage"
	"github.com/gatehouse/gatehouse/server/policy"
	"github.com/gatehouse/gatehouse/server/ui"
	"github.com/gatehouse/gatehouse/storage/sqlstore"
	"github.com/gatehouse/gatehouse/storage/storagetest"
)

// scrape fetches /metrics and returns each sample line's value by its name
// and labels as printed (e.g. `gatehouse_logins_total{outcome="success"}`).
func (e *env) scrape() map[string]float64 {
	e.t.Helper()
	res, err := http.Get(e.issuer + "/metrics")
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(res.Body)
		e.t.Fatalf("GET /metrics: %d %s", res.StatusCode, body)
	}
	samples := map[string]float64{}
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			e.t.Fatalf("metrics line %q: %v", line, err)
		}
		samples[line[:i]] = v
	}
	return samples
}

func TestMetricsAfterFlows(t *testing.T) {
	reg := prometheus.NewRegistry()
	e := newEnv(t, backends[0].dsn(t), func(c *server.Config) {
		c.Metrics = reg
		c.Lockout = policy.Lockout{Threshold: 2, Window: time.Hour, Durations: []time.Duration{time.Hour}}
		c.LockoutDelay = time.Millisecond
	})
	_, pw := e.user("mallory")
	_, _ = e.user("nina")
	c, s := e.client(manage.ClientSpec{SkipConsent: true})
	r := e.rp(c, s)

	tok := r.fullLogin(newBrowser(t), person{"mallory", pw, ""})
	if status, body := r.refresh(tok.RefreshToken); status != http.StatusOK {
		t.Fatalf("refresh: %d %v", status, body)
	}
	if status, _ := r.refresh(tok.RefreshToken); status != http.StatusBadRequest {
		t.Fatalf("refresh token reuse: status %d, want 400", status)
	}
	b := newBrowser(t)
	for range 3 { // two failures lock nina on this address; the third is refused
		e.tryLogin(b, r, "nina", "wrong password")
	}

	got := e.scrape()
	want := map[string]float64{
		`gatehouse_logins_total{outcome="success"}`:                                          1,
		`gatehouse_logins_total{outcome="bad_credentials"}`:                                  1,
		`gatehouse_logins_total{outcome="locked"}`:                                           2,
		`gatehouse_lockouts_total{counter="account+address"}`:                                1,
		`gatehouse_tokens_issued_total{grant_type="authorization_code"}`:                     1,
		`gatehouse_tokens_issued_total{grant_type="refresh_token"}`:                          1,
		`gatehouse_refresh_token_reuse_total`:                                                1,
		`gatehouse_http_requests_total{code="200",method="POST",route="POST /oauth2/token"}`: 2,
		`gatehouse_http_requests_total{code="400",method="POST",route="POST /oauth2/token"}`: 1,
		`gatehouse_http_request_duration_seconds_count{route="POST /oauth2/token"}`:          3,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	// Paths never become labels: an unknown path counts as unmatched.
	_, _ = http.Get(e.issuer + "/no/such/" + randomString(8))
	got = e.scrape()
	if got[`gatehouse_http_requests_total{code="404",method="GET",route="unmatched"}`] != 1 {
		t.Errorf("unknown path not counted as unmatched")
	}
	for k := range got {
		if strings.Contains(k, "/no/such/") {
			t.Errorf("raw path in a label: %s", k)
		}
	}
}

func TestHealthProbes(t *testing.T) {
	get := func(t *testing.T, e *env, path string) (int, string) {
		t.Helper()
		res, err := http.Get(e.issuer + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res.StatusCode, strings.TrimSpace(string(body))
	}
	t.Run("current schema", func(t *testing.T) {
		dsn := backends[0].dsn(t)
		current := openStore(t, dsn).(*sqlstore.Store)
		e := newEnv(t, dsn, func(c *server.Config) { c.Migrations = current })
		for _, p := range []string{"/health/alive", "/healthz", "/health/ready", "/readyz"} {
			if status, body := get(t, e, p); status != http.StatusOK || body != "ok" {
				t.Errorf("GET %s: %d %q", p, status, body)
			}
		}
		if status, _ := get(t, e, "/metrics"); status != http.StatusNotFound {
			t.Errorf("GET /metrics without a registry: %d, want 404", status)
		}
	})
	t.Run("pending migrations", func(t *testing.T) {
		// A second database that was never migrated stands in for a schema
		// behind the binary.
		behind, err := sqlstore.Open(context.Background(), storagetest.SQLiteDSN(t), sqlstore.Options{Logger: testLogger()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = behind.Close() })
		e := newEnv(t, backends[0].dsn(t), func(c *server.Config) { c.Migrations = behind })
		if status, _ := get(t, e, "/health/alive"); status != http.StatusOK {
			t.Errorf("alive: %d", status)
		}
		for _, p := range []string{"/health/ready", "/readyz"} {
			if status, body := get(t, e, p); status != http.StatusServiceUnavailable || body != "database migrations pending" {
				t.Errorf("GET %s: %d %q, want 503", p, status, body)
			}
		}
	})
}

func TestMetricsSecondFactor(t *testing.T) {
	clock := newTestClock()
	e := newEnv(t, backends[0].dsn(t), withClock(clock), func(c *server.Config) { c.Metrics = prometheus.NewRegistry() })
	_, pw := e.user("olga")
	ph, _ := e.enrollByAccount(newBrowser(t), clock, "olga", pw)

	b := newBrowser(t)
	if p := e.accountSignIn(b, "olga", pw); p.location() != ui.AccountVerifyPath {
		t.Fatalf("account sign-in with an app: %d to %q", p.status, p.location())
	}
	if p := e.post(b, ui.AccountVerifyPath, url.Values{"code": {ph.code(3)}}); p.status != http.StatusUnauthorized {
		t.Fatalf("wrong code: %d", p.status)
	}
	if p := e.post(b, ui.AccountVerifyPath, url.Values{"code": {ph.code(0)}}); p.location() != ui.AccountPath {
		t.Fatalf("right code: %d to %q", p.status, p.location())
	}
	got := e.scrape()
	for k, v := range map[string]float64{
		`gatehouse_logins_total{outcome="success"}`:   2,
		`gatehouse_mfa_total{outcome="invalid_code"}`: 1,
		`gatehouse_mfa_total{outcome="success"}`:      1,
	} {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
}
