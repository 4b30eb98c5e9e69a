package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// opsIssuer is the issuer of the production-mode servers of the ops tests;
// they are reached on their loopback address, the issuer is only a name.
const opsIssuer = "https://auth.example.com"

// opsServe starts "gatehouse serve --json" in production mode on a free
// loopback port and returns the process and its address.
func opsServe(t *testing.T, c *cli) (*process, string) {
	t.Helper()
	c.env["GATEHOUSE_ADDR"] = "127.0.0.1:0"
	c.env["GATEHOUSE_ISSUER"] = opsIssuer
	p := start(t, c.command("", "serve", "--json"))
	var info devStarted
	line := p.readLine(t, time.Minute)
	if err := json.Unmarshal([]byte(line), &info); err != nil || info.Addr == "" {
		t.Fatalf("serve --json printed %q (%v)", line, err)
	}
	return p, "http://" + info.Addr
}

// serviceClient migrates the database and registers a confidential
// client_credentials client.
func serviceClient(t *testing.T, c *cli) (id, secret string) {
	t.Helper()
	c.ok(nil, "", "migrate")
	var out map[string]string
	c.ok(&out, "", "clients", "create", "--name", "Load", "--grant-type", "client_credentials", "--json")
	return out["client_id"], out["client_secret"]
}

// opsClient talks to the token, revocation and introspection endpoints as
// one confidential client, with short timeouts.
type opsClient struct {
	http       *http.Client
	id, secret string
}

func newOpsClient(id, secret string) *opsClient {
	return &opsClient{http: &http.Client{Timeout: 10 * time.Second}, id: id, secret: secret}
}

// post sends a form as the client and returns status, Retry-After and body.
func (o *opsClient) post(base, path string, form url.Values) (int, string, []byte, error) {
	req, err := http.NewRequest(http.MethodPost, base+path, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, "", nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(o.id), url.QueryEscape(o.secret))
	resp, err := o.http.Do(req)
	if err != nil {
		return 0, "", nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, resp.Header.Get("Retry-After"), body, err
}

// token asks for a client_credentials access token; the token is "" unless
// the status is 200.
func (o *opsClient) token(base string) (int, string, string, error) {
	status, retry, body, err := o.post(base, "/oauth2/token", url.Values{"grant_type": {"client_credentials"}})
	if err != nil || status != http.StatusOK {
		return status, retry, "", err
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(body, &tok); err != nil || tok.AccessToken == "" {
		return status, retry, "", fmt.Errorf("token response %q: %v", body, err)
	}
	return status, retry, tok.AccessToken, nil
}

// revoke revokes an access token and returns the status and Retry-After.
func (o *opsClient) revoke(base, token string) (int, string, error) {
	status, retry, _, err := o.post(base, "/oauth2/revoke", url.Values{"token": {token}, "token_type_hint": {"access_token"}})
	return status, retry, err
}

// active introspects a token; it fails t on anything but a 200 answer.
func (o *opsClient) active(t *testing.T, base, token string) bool {
	t.Helper()
	status, _, body, err := o.post(base, "/oauth2/introspect", url.Values{"token": {token}})
	if err != nil || status != http.StatusOK {
		t.Fatalf("introspect: %d %s %v", status, body, err)
	}
	var in struct {
		Active bool `json:"active"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		t.Fatalf("introspection response %q: %v", body, err)
	}
	return in.Active
}

// ledger records what the server answered 200 under load: issued tokens
// (still expected active) and revoked tokens (expected inactive), plus every
// other status seen.
type ledger struct {
	mu       sync.Mutex
	issued   map[string]bool
	revoked  []string
	statuses map[int]int
	errors   int
	// badRetry counts 503 answers without Retry-After.
	badRetry int
}

func newLedger() *ledger {
	return &ledger{issued: map[string]bool{}, statuses: map[int]int{}}
}

func (l *ledger) status(code int, retryAfter string, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil {
		l.errors++
		return
	}
	l.statuses[code]++
	if code == http.StatusServiceUnavailable && retryAfter == "" {
		l.badRetry++
	}
}

func (l *ledger) count(code int) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.statuses[code]
}

// load runs workers that each get a token, and revoke every third one,
// until stop is closed or each worker made max requests; it pauses pause
// between requests. It returns when every worker has stopped.
func (l *ledger) load(o *opsClient, base func() string, workers, max int, pause time.Duration, stop <-chan struct{}) {
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < max; i++ {
				select {
				case <-stop:
					return
				case <-time.After(pause):
				}
				status, retry, tok, err := o.token(base())
				l.status(status, retry, err)
				if tok == "" {
					continue
				}
				if (i+w)%3 != 0 {
					l.mu.Lock()
					l.issued[tok] = true
					l.mu.Unlock()
					continue
				}
				// A revocation that did not answer 200 leaves the token in
				// an unknown state: it is in neither list.
				status, retry, err = o.revoke(base(), tok)
				l.status(status, retry, err)
				if err == nil && status == http.StatusOK {
					l.mu.Lock()
					l.revoked = append(l.revoked, tok)
					l.mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
}

// verify checks that every token answered 200 introspects active and every
// revocation answered 200 holds.
func (l *ledger) verify(t *testing.T, o *opsClient, base string) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.issued) == 0 || len(l.revoked) == 0 {
		t.Fatalf("the load got %d tokens and %d revocations answered 200; want some of each", len(l.issued), len(l.revoked))
	}
	for tok := range l.issued {
		if !o.active(t, base, tok) {
			t.Fatalf("a token answered 200 is not active any more (%d issued)", len(l.issued))
		}
	}
	for _, tok := range l.revoked {
		if o.active(t, base, tok) {
			t.Fatalf("a revocation answered 200 did not hold (%d revoked)", len(l.revoked))
		}
	}
	t.Logf("verified %d tokens and %d revocations; statuses %v, transport errors %d", len(l.issued), len(l.revoked), l.statuses, l.errors)
}
