package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/net/html"
)

// TestReadmeQuickStart runs the README's first command verbatim, reads the
// credentials and authorization URL it prints, and signs in like a browser.
func TestReadmeQuickStart(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles and runs the server with go run")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	command := firstCommand(t, string(readme), "## Quick start")
	t.Logf("README's first command: %s", command)

	c := newCLI(t)
	delete(c.env, "GATEHOUSE_SECRET")
	c.env["GATEHOUSE_ADDR"] = "127.0.0.1:0" // the command honours it; no fixed port in tests
	cmd := exec.Command("sh", "-c", command)
	cmd.Dir = root // the command is written for the repository root
	cmd.Env = c.environ()
	p := start(t, cmd)
	banner := p.readBanner(t, 5*time.Minute)
	for _, key := range []string{"issuer", "client_id", "client_secret", "redirect_uri", "username", "password", "state", "nonce", "code_verifier", "authorize_url"} {
		if banner[key] == "" {
			t.Fatalf("the banner has no %s: %v", key, banner)
		}
	}

	code := signIn(t, banner)
	tokens := exchangeCode(t, banner, code)

	ctx := context.Background()
	provider, err := oidc.NewProvider(ctx, banner["issuer"])
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	idToken, err := provider.Verifier(&oidc.Config{ClientID: banner["client_id"]}).Verify(ctx, tokens.IDToken)
	if err != nil {
		t.Fatalf("verify ID token: %v", err)
	}
	if idToken.Nonce != banner["nonce"] {
		t.Fatalf("ID token nonce %q, want the printed %q", idToken.Nonce, banner["nonce"])
	}
	if tokens.RefreshToken == "" {
		t.Error("no refresh token although offline_access was asked for")
	}
	p.stop(t)
	assertNoSecretsLogged(t, p.stderr.String(), banner["client_secret"], banner["password"], code, tokens.AccessToken, tokens.RefreshToken, tokens.IDToken)
}

// firstCommand returns the first command of the first ```sh block under
// heading.
func firstCommand(t *testing.T, readme, heading string) string {
	t.Helper()
	_, after, ok := strings.Cut(readme, "\n"+heading+"\n")
	if !ok {
		t.Fatalf("README has no %q section", heading)
	}
	if next := strings.Index(after, "\n## "); next >= 0 {
		after = after[:next]
	}
	_, block, ok := strings.Cut(after, "```sh\n")
	if !ok {
		t.Fatalf("the %q section has no ```sh block", heading)
	}
	block, _, _ = strings.Cut(block, "```")
	for _, line := range strings.Split(block, "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			return line
		}
	}
	t.Fatalf("the first ```sh block under %q is empty", heading)
	return ""
}

// signIn follows the authorization URL with a cookie jar, fills in the login
// form and accepts the consent form if one is shown, and returns the code
// from the redirect to the client.
func signIn(t *testing.T, banner map[string]string) string {
	t.Helper()
	redirect, err := url.Parse(banner["redirect_uri"])
	if err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	client := &http.Client{
		Jar:     jar,
		Timeout: 30 * time.Second,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if req.URL.Host == redirect.Host || len(via) > 10 {
				return http.ErrUseLastResponse
			}
			return nil
		},
	}
	resp, err := client.Get(banner["authorize_url"])
	if err != nil {
		t.Fatal(err)
	}
	for step := 0; step < 5; step++ {
		if loc, err := resp.Location(); err == nil && loc.Host == redirect.Host {
			resp.Body.Close()
			return codeFromRedirect(t, banner, loc)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("step %d: %s %s answered %d:\n%s", step, resp.Request.Method, resp.Request.URL.Path, resp.StatusCode, body)
		}
		form := findForm(t, body)
		values := form.values()
		switch {
		case form.byAutocomplete("username") != nil:
			t.Logf("step %d: login form at %s", step, resp.Request.URL.Path)
			values.Set(form.byAutocomplete("username").name, banner["username"])
			values.Set(form.byAutocomplete("current-password").name, banner["password"])
		case form.hasConsent:
			t.Logf("step %d: consent form at %s", step, resp.Request.URL.Path)
			values.Set("consent", "accept")
		default:
			t.Fatalf("step %d: neither a login nor a consent form:\n%s", step, body)
		}
		action, err := resp.Request.URL.Parse(form.action)
		if err != nil {
			t.Fatal(err)
		}
		if resp, err = client.PostForm(action.String(), values); err != nil {
			t.Fatal(err)
		}
	}
	t.Fatal("no redirect to the client after 5 steps")
	return ""
}

func codeFromRedirect(t *testing.T, banner map[string]string, loc *url.URL) string {
	t.Helper()
	q := loc.Query()
	if q.Get("error") != "" {
		t.Fatalf("authorization error: %s: %s", q.Get("error"), q.Get("error_description"))
	}
	if q.Get("state") != banner["state"] {
		t.Fatalf("state %q, want the printed %q", q.Get("state"), banner["state"])
	}
	if q.Get("iss") != banner["issuer"] {
		t.Fatalf("iss %q, want %q (RFC 9207)", q.Get("iss"), banner["issuer"])
	}
	if q.Get("code") == "" {
		t.Fatalf("no code in %s", loc.Redacted())
	}
	return q.Get("code")
}

type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	IDToken      string `json:"id_token"`
	TokenType    string `json:"token_type"`
}

// exchangeCode redeems the code with the printed secret and verifier.
func exchangeCode(t *testing.T, banner map[string]string, code string) tokenResponse {
	t.Helper()
	form := url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {code},
		"redirect_uri":  {banner["redirect_uri"]},
		"code_verifier": {banner["code_verifier"]},
	}
	req, err := http.NewRequest(http.MethodPost, banner["issuer"]+"/oauth2/token", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(banner["client_id"]), url.QueryEscape(banner["client_secret"]))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("token endpoint answered %d: %s", resp.StatusCode, body)
	}
	var tr tokenResponse
	if err := json.Unmarshal(body, &tr); err != nil || tr.IDToken == "" || tr.AccessToken == "" {
		t.Fatalf("token response without id_token or access_token (%v)", err)
	}
	return tr
}

// htmlForm is a parsed <form>: its action, its inputs and whether it has
// the consent accept button.
type htmlForm struct {
	action     string
	inputs     []htmlInput
	hasConsent bool
}

type htmlInput struct {
	name, typ, value, autocomplete string
}

// byAutocomplete returns the input with the given autocomplete token.
func (f *htmlForm) byAutocomplete(token string) *htmlInput {
	for i, in := range f.inputs {
		if in.autocomplete == token {
			return &f.inputs[i]
		}
	}
	return nil
}

// values returns the hidden inputs to post back.
func (f *htmlForm) values() url.Values {
	v := url.Values{}
	for _, in := range f.inputs {
		if in.typ == "hidden" && in.name != "" {
			v.Add(in.name, in.value)
		}
	}
	return v
}

// findForm returns the page's login or consent form.
func findForm(t *testing.T, page []byte) *htmlForm {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(string(page)))
	if err != nil {
		t.Fatalf("parse page: %v", err)
	}
	var forms []*htmlForm
	var walk func(n *html.Node, form *htmlForm)
	walk = func(n *html.Node, form *htmlForm) {
		if n.Type == html.ElementNode {
			switch n.Data {
			case "form":
				form = &htmlForm{action: attr(n, "action")}
				forms = append(forms, form)
			case "input":
				if form != nil {
					form.inputs = append(form.inputs, htmlInput{name: attr(n, "name"), typ: strings.ToLower(attr(n, "type")), value: attr(n, "value"), autocomplete: attr(n, "autocomplete")})
				}
			case "button":
				if form != nil && attr(n, "name") == "consent" && attr(n, "value") == "accept" {
					form.hasConsent = true
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, form)
		}
	}
	walk(doc, nil)
	for _, f := range forms {
		if f.byAutocomplete("username") != nil && f.byAutocomplete("current-password") != nil || f.hasConsent {
			return f
		}
	}
	t.Fatalf("no login or consent form on the page (%d forms):\n%s", len(forms), page)
	return nil
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}
