package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"
)

// harness holds what every scenario shares: the HTTP client, the target and
// issuer, and the admin API credentials that provision the scenarios.
type harness struct {
	o        options
	client   *http.Client
	target   string
	issuer   string
	requests atomic.Int64
	batches  atomic.Int64 // numbers the batches of users, whose names must differ
	// run tells this invocation's roles, clients and users apart from
	// those of earlier runs on the same database.
	run string
}

// countingTransport counts the HTTP requests of the whole run.
type countingTransport struct {
	next http.RoundTripper
	n    *atomic.Int64
}

func (t countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	t.n.Add(1)
	return t.next.RoundTrip(r)
}

func newHarness(ctx context.Context, o options) (*harness, error) {
	h := &harness{o: o, target: strings.TrimRight(o.target, "/"), run: fmt.Sprintf("%x", time.Now().UnixNano()&0xffffff)}
	transport := &http.Transport{
		MaxIdleConns:        4 * o.concurrency,
		MaxIdleConnsPerHost: 4 * o.concurrency,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
	}
	h.client = &http.Client{
		Transport: countingTransport{next: transport, n: &h.requests},
		Timeout:   o.requestLimit,
		// Redirects are the flow's steps: the scenarios follow them
		// themselves, and stop at the client's redirect URI.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	var discovery struct {
		Issuer string `json:"issuer"`
	}
	if err := h.getJSON(ctx, "/.well-known/openid-configuration", &discovery); err != nil {
		return nil, fmt.Errorf("discovery at %s: %w", h.target, err)
	}
	h.issuer = strings.TrimRight(discovery.Issuer, "/")
	return h, nil
}

// local maps a URL on the issuer (pages link to it) to the target.
func (h *harness) local(u string) string {
	if rest, ok := strings.CutPrefix(u, h.issuer); ok {
		return h.target + rest
	}
	if strings.HasPrefix(u, "/") {
		return h.target + u
	}
	return u
}

func (h *harness) getJSON(ctx context.Context, path string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.target+path, nil)
	if err != nil {
		return err
	}
	resp, body, err := h.do(req)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: status %d", path, resp.StatusCode)
	}
	return json.Unmarshal(body, out)
}

// do sends req and reads the whole body.
func (h *harness) do(req *http.Request) (*http.Response, []byte, error) {
	resp, err := h.client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, nil, fmt.Errorf("%s %s: read body: %w", req.Method, req.URL.Path, err)
	}
	return resp, body, nil
}

// basicAuth is the Authorization header of client_secret_basic (RFC 6749
// §2.3.1: both parts form-encoded first).
func basicAuth(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
}

// tokenResponse is the part of a token endpoint answer the scenarios check.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	IDToken      string `json:"id_token"`
	Error        string `json:"error"`
}

// postForm posts a form to a protocol endpoint with client authentication
// and decodes a JSON answer into out when the status is 200.
func (h *harness) postForm(ctx context.Context, path, form, auth string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.target+path, strings.NewReader(form))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", auth)
	resp, body, err := h.do(req)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("POST %s: status %d: %s", path, resp.StatusCode, errorCode(body))
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("POST %s: decode answer: %w", path, err)
	}
	return nil
}

// errorCode is the RFC 6749 error code of an error answer, never its whole
// body (which is safe, but long).
func errorCode(body []byte) string {
	var e struct {
		Error string `json:"error"`
		Title string `json:"title"`
	}
	if json.Unmarshal(body, &e) == nil && (e.Error != "" || e.Title != "") {
		return e.Error + e.Title
	}
	return pageTitle(body)
}

// token asks the token endpoint for tokens and checks that it got an access token.
func (h *harness) token(ctx context.Context, form, auth string) (tokenResponse, error) {
	var t tokenResponse
	if err := h.postForm(ctx, "/oauth2/token", form, auth, &t); err != nil {
		return t, err
	}
	if t.AccessToken == "" {
		return t, fmt.Errorf("token endpoint: no access_token in a 200 answer")
	}
	return t, nil
}

// admin calls the admin API with a fresh admin token.
func (h *harness) admin(ctx context.Context, method, path string, in, out any) error {
	t, err := h.token(ctx, "grant_type=client_credentials&scope=gatehouse%3Aadmin", basicAuth(h.o.adminID, h.o.adminSecret))
	if err != nil {
		return fmt.Errorf("admin token (GATEHOUSE_LOAD_CLIENT_ID must hold a role with gatehouse:admin): %w", err)
	}
	var body io.Reader
	if in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, h.target+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+t.AccessToken)
	req.Header.Set("Content-Type", "application/json")
	resp, data, err := h.do(req)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("admin %s %s: status %d: %s", method, path, resp.StatusCode, data)
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}

func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
