package main

import (
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/storage/storagetest"
)

// TestTwoInstancesShareOnePostgres starts two servers at once on a fresh
// PostgreSQL database (both run the pending migrations), then runs an
// authorization code flow across them: authorize on the first, sign in on
// the second, token exchange on the first, introspection on the second.
func TestTwoInstancesShareOnePostgres(t *testing.T) {
	dsn := storagetest.PostgresDSN(t)
	certFile, keyFile, pool := selfSignedCert(t)
	instance := func() *cli {
		c := newCLI(t)
		c.env["GATEHOUSE_DSN"] = dsn
		c.env["GATEHOUSE_ADDR"] = "127.0.0.1:0"
		c.env["GATEHOUSE_ISSUER"] = opsIssuer
		c.env["GATEHOUSE_TLS_CERT"] = certFile
		c.env["GATEHOUSE_TLS_KEY"] = keyFile
		return c
	}
	ca, cb := instance(), instance()
	// Both start before either has migrated.
	pa := start(t, ca.command("", "serve", "--json"))
	pb := start(t, cb.command("", "serve", "--json"))
	a, b := "https://"+startedAddr(t, pa), "https://"+startedAddr(t, pb)
	// A third instance refuses to start on pending migrations: it starts.
	pc := start(t, instance().command("", "serve", "--json", "--no-migrate"))
	startedAddr(t, pc)
	pc.stop(t)

	const redirectURI = "http://127.0.0.1:5555/callback"
	var client map[string]string
	ca.ok(&client, "", "clients", "create", "--name", "Web", "--redirect-uri", redirectURI, "--skip-consent", "--json")
	const password = "correct horse battery staple"
	cb.ok(nil, password+"\n", "users", "create", "--username", "ada", "--email", "ada@example.com", "--password-stdin", "--json")

	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	browser := &http.Client{
		Jar:           jar,
		Timeout:       10 * time.Second,
		Transport:     &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	verifier := strings.Repeat("v", 20) + "-verifier-0123456789-abcdefghij"
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{
		"response_type": {"code"}, "client_id": {client["client_id"]}, "redirect_uri": {redirectURI},
		"scope": {"openid"}, "state": {"state-0123456789"}, "nonce": {"nonce-0123456789"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"},
	}
	// Every redirect is followed on the other instance than the one that
	// sent it; the sign-in form is posted where it was shown (the second).
	resp := mustDo(t, browser, http.MethodGet, a+"/oauth2/auth?"+q.Encode(), nil)
	last := a
	other := func() string {
		if last == a {
			last = b
		} else {
			last = a
		}
		return last
	}
	var code string
	var trail []string
	for step := 0; code == "" && step < 10; step++ {
		switch resp.status {
		case http.StatusFound, http.StatusSeeOther:
			loc, err := url.Parse(resp.location)
			if err != nil {
				t.Fatal(err)
			}
			if strings.HasPrefix(resp.location, redirectURI) {
				if loc.Query().Get("state") != q.Get("state") {
					t.Fatalf("redirect to the client: %s", resp.location)
				}
				code = loc.Query().Get("code")
				continue
			}
			base := other()
			trail = append(trail, "GET "+loc.Path+" on "+base)
			resp = mustDo(t, browser, http.MethodGet, base+loc.RequestURI(), nil)
		case http.StatusOK:
			m := regexp.MustCompile(`name="ar" value="([^"]+)"`).FindStringSubmatch(resp.body)
			if m == nil || !strings.Contains(resp.body, `action="/login"`) {
				t.Fatalf("step %d: a page that is not the sign-in form:\n%s", step, resp.body)
			}
			trail = append(trail, "POST /login on "+last)
			resp = mustDo(t, browser, http.MethodPost, last+"/login",
				url.Values{"ar": {html.UnescapeString(m[1])}, "username": {"ada"}, "password": {password}})
		default:
			t.Fatalf("step %d: status %d\n%s", step, resp.status, resp.body)
		}
	}
	if code == "" {
		t.Fatalf("the flow did not reach the client within 10 steps: %v", trail)
	}
	if len(trail) < 2 || trail[0] != "GET /login on "+b || trail[1] != "POST /login on "+b {
		t.Fatalf("the sign-in did not happen on the second instance: %v", trail)
	}
	t.Logf("first %s, second %s: %v", a, b, trail)

	o := newOpsClient(client["client_id"], client["client_secret"])
	o.http.Transport = browser.Transport
	status, _, body, err := o.post(a, "/oauth2/token", url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}, "code_verifier": {verifier},
	})
	if err != nil || status != http.StatusOK {
		t.Fatalf("token exchange on the first instance: %d %s %v", status, body, err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		IDToken     string `json:"id_token"`
	}
	if err := json.Unmarshal(body, &tok); err != nil || tok.AccessToken == "" || tok.IDToken == "" {
		t.Fatalf("token response %s: %v", body, err)
	}
	if !o.active(t, b, tok.AccessToken) {
		t.Fatal("the second instance does not know the first one's access token")
	}
}

// startedAddr reads the JSON start line of "serve --json".
func startedAddr(t *testing.T, p *process) string {
	t.Helper()
	var info devStarted
	line := p.readLine(t, time.Minute)
	if err := json.Unmarshal([]byte(line), &info); err != nil || info.Addr == "" {
		t.Fatalf("serve --json printed %q (%v)\nstderr:\n%s", line, err, p.stderr)
	}
	return info.Addr
}

type browserResponse struct {
	status         int
	location, body string
}

func mustDo(t *testing.T, c *http.Client, method, target string, form url.Values) browserResponse {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return browserResponse{status: resp.StatusCode, location: resp.Header.Get("Location"), body: string(b)}
}
