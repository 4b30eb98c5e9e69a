package server_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/net/html"
	"golang.org/x/oauth2"

	"github.com/gatehouse/gatehouse/storage"
)

// person drives the pages: who signs in and what they answer on consent.
type person struct {
	username, password string
	// consent is "accept" or "reject"; empty means the test expects no consent page.
	consent string
}

// visit is what happened when a browser followed an authorization request.
type visit struct {
	callback    *url.URL // where Gatehouse finally sent the browser back to the client
	sawLogin    bool
	sawConsent  bool
	status      int    // status of the last page when no callback was reached
	page        string // text of the last page when no callback was reached
	consentText string
}

// pageStep answers a page that follow does not know (second factor,
// enrollment): it returns the next request, or nil to stop on the page.
type pageStep func(page *url.URL, forms []*form, doc *html.Node) *http.Request

// follow drives b through Gatehouse from startURL until it is sent back to
// a client (any host other than the issuer) or stops on a page; steps
// answer the pages it does not know.
func (e *env) follow(b *browser, startURL string, p person, steps ...pageStep) visit {
	e.t.Helper()
	var v visit
	issuer, _ := url.Parse(e.issuer)
	req, _ := http.NewRequest(http.MethodGet, startURL, nil)
	loginTried := false
	for step := 0; step < 12; step++ {
		resp, err := b.Do(req)
		if err != nil {
			e.t.Fatalf("request %s: %v", req.URL.Path, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 300 && resp.StatusCode < 400 {
			loc, err := req.URL.Parse(resp.Header.Get("Location"))
			if err != nil {
				e.t.Fatalf("bad Location: %v", err)
			}
			if loc.Host != issuer.Host {
				v.callback = loc
				return v
			}
			req, _ = http.NewRequest(http.MethodGet, loc.String(), nil)
			continue
		}
		forms, doc, err := parseForms(bytes.NewReader(body))
		if err != nil {
			e.t.Fatalf("parse page: %v", err)
		}
		v.status, v.page = resp.StatusCode, textOf(doc)
		var next *form
		vals := url.Values{}
		for _, f := range forms {
			switch {
			case f.input("autocomplete", "username") != nil && f.input("autocomplete", "current-password") != nil:
				if loginTried {
					return v // the login page came back: wrong password
				}
				loginTried, v.sawLogin = true, true
				next = f
				for k, val := range f.fields {
					vals.Set(k, val)
				}
				vals.Set(f.input("autocomplete", "username")["name"], p.username)
				vals.Set(f.input("autocomplete", "current-password")["name"], p.password)
			case f.button("consent", "accept") != nil && f.button("consent", "reject") != nil:
				v.sawConsent = true
				v.consentText = v.page
				if p.consent == "" {
					return v
				}
				next = f
				for k, val := range f.fields {
					vals.Set(k, val)
				}
				vals.Set("consent", p.consent)
			}
		}
		if next == nil {
			if req = firstStep(steps, req.URL, forms, doc); req == nil {
				return v
			}
			continue
		}
		action, _ := req.URL.Parse(next.action)
		req, _ = http.NewRequest(http.MethodPost, action.String(), strings.NewReader(vals.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", e.issuer)
	}
	e.t.Fatal("too many steps")
	return v
}

// rp is a relying party: x/oauth2 for the flow, go-oidc to verify ID tokens.
type rp struct {
	e        *env
	client   *storage.Client
	conf     *oauth2.Config
	verifier *oidc.IDTokenVerifier
}

func (e *env) rp(c *storage.Client, secret string, scopes ...string) *rp {
	e.t.Helper()
	ctx := context.Background()
	provider, err := oidc.NewProvider(ctx, e.issuer)
	if err != nil {
		e.t.Fatalf("discovery: %v", err)
	}
	if len(scopes) == 0 {
		scopes = []string{"openid", "profile", "email", "offline_access"}
	}
	ep := provider.Endpoint()
	if c.Public {
		ep.AuthStyle = oauth2.AuthStyleInParams
	} else if c.TokenEndpointAuthMethod == storage.AuthMethodClientSecretPost {
		ep.AuthStyle = oauth2.AuthStyleInParams
	} else {
		ep.AuthStyle = oauth2.AuthStyleInHeader
	}
	algs := []string{"RS256"}
	if c.IDTokenSigningAlg == "ES256" {
		algs = []string{"ES256"}
	}
	return &rp{
		e:      e,
		client: c,
		conf: &oauth2.Config{
			ClientID: c.ID, ClientSecret: secret, Endpoint: ep,
			RedirectURL: c.RedirectURIs[0], Scopes: scopes,
		},
		verifier: provider.Verifier(&oidc.Config{ClientID: c.ID, SupportedSigningAlgs: algs}),
	}
}

// authRequest is one authorization request with its PKCE verifier.
type authRequest struct {
	url, state, nonce, verifier string
}

func (r *rp) authURL(extra ...oauth2.AuthCodeOption) authRequest {
	a := authRequest{state: randomString(16), nonce: randomString(16), verifier: oauth2.GenerateVerifier()}
	opts := append([]oauth2.AuthCodeOption{oauth2.S256ChallengeOption(a.verifier), oidc.Nonce(a.nonce)}, extra...)
	a.url = r.conf.AuthCodeURL(a.state, opts...)
	return a
}

// login runs an authorization with p and returns the code, checking state and iss.
func (r *rp) login(b *browser, a authRequest, p person, steps ...pageStep) (code string, v visit) {
	t := r.e.t
	t.Helper()
	v = r.e.follow(b, a.url, p, steps...)
	if v.callback == nil {
		t.Fatalf("no redirect back to the client; last page (%d): %s", v.status, v.page)
	}
	q := v.callback.Query()
	if q.Get("error") != "" {
		t.Fatalf("authorization error %s: %s", q.Get("error"), q.Get("error_description"))
	}
	if q.Get("state") != a.state {
		t.Fatalf("state = %q, want %q", q.Get("state"), a.state)
	}
	if q.Get("iss") != r.e.issuer {
		t.Fatalf("iss = %q, want %q", q.Get("iss"), r.e.issuer)
	}
	code = q.Get("code")
	remember(code)
	return code, v
}

// tokens is a token response with its verified ID token.
type tokens struct {
	*oauth2.Token
	idToken *oidc.IDToken
	raw     string
}

func (r *rp) exchange(code string, a authRequest) (*tokens, error) {
	tok, err := r.conf.Exchange(context.Background(), code, oauth2.VerifierOption(a.verifier))
	if err != nil {
		return nil, err
	}
	out := &tokens{Token: tok}
	remember(tok.AccessToken, tok.RefreshToken)
	if raw, ok := tok.Extra("id_token").(string); ok {
		remember(raw)
		out.raw = raw
		idt, err := r.verifier.Verify(context.Background(), raw)
		if err != nil {
			return nil, err
		}
		if idt.Nonce != a.nonce {
			r.e.t.Fatalf("nonce = %q, want %q", idt.Nonce, a.nonce)
		}
		if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
			r.e.t.Fatalf("at_hash: %v", err)
		}
		out.idToken = idt
	}
	return out, nil
}

func (r *rp) mustExchange(code string, a authRequest) *tokens {
	r.e.t.Helper()
	tok, err := r.exchange(code, a)
	if err != nil {
		r.e.t.Fatalf("exchange: %v", err)
	}
	return tok
}

// fullLogin is authorize + exchange for a person who consents.
func (r *rp) fullLogin(b *browser, p person) *tokens {
	r.e.t.Helper()
	a := r.authURL()
	code, _ := r.login(b, a, p)
	return r.mustExchange(code, a)
}

// postForm posts a form to an endpoint, with basic auth when user is set.
func (e *env) postForm(path string, form url.Values, user, pass string) (int, map[string]any, http.Header) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.issuer+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		req.SetBasicAuth(url.QueryEscape(user), url.QueryEscape(pass))
	}
	return e.do(req)
}

func (e *env) do(req *http.Request) (int, map[string]any, http.Header) {
	e.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(body, &m)
	return resp.StatusCode, m, resp.Header
}

func (e *env) introspect(token, clientID, secret string) map[string]any {
	e.t.Helper()
	status, body, _ := e.postForm("/oauth2/introspect", url.Values{"token": {token}}, clientID, secret)
	if status != http.StatusOK {
		e.t.Fatalf("introspect: %d %v", status, body)
	}
	return body
}

func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func audienceParam(aud string) oauth2.AuthCodeOption {
	return oauth2.SetAuthURLParam("audience", aud)
}

// firstStep returns the request of the first step that answers the page.
func firstStep(steps []pageStep, page *url.URL, forms []*form, doc *html.Node) *http.Request {
	for _, s := range steps {
		if req := s(page, forms, doc); req != nil {
			return req
		}
	}
	return nil
}
