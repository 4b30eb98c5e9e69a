package server_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/gatehouse/gatehouse/server"
	"github.com/gatehouse/gatehouse/server/mail"
	"github.com/gatehouse/gatehouse/server/mail/mailtest"
	"github.com/gatehouse/gatehouse/storage"
)

// mailWait bounds how long a test waits for a mail to reach the SMTP server.
const mailWait = 15 * time.Second

// withSMTP makes the server send mail over plain SMTP to srv (a real SMTP
// server on 127.0.0.1) and opens registration when asked.
func withSMTP(t *testing.T, srv *mailtest.Server, registration bool) func(*server.Config) {
	t.Helper()
	cfg, err := mail.ParseSMTPURL(srv.URL("smtp"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.From, err = mail.ParseFrom("Gatehouse <auth@example.com>"); err != nil {
		t.Fatal(err)
	}
	sender, err := mail.NewSMTPSender(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return func(c *server.Config) {
		c.Mail = sender
		c.Registration = registration
	}
}

// forEachBackendWithMail runs f against SQLite and PostgreSQL, each with
// its own in-process SMTP server.
func forEachBackendWithMail(t *testing.T, registration bool, f func(t *testing.T, e *env, smtp *mailtest.Server), opts ...func(*server.Config)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			smtp := mailtest.Start(t)
			opts := append([]func(*server.Config){withSMTP(t, smtp, registration)}, opts...)
			f(t, newEnv(t, b.dsn(t), opts...), smtp)
		})
	}
}

// webPage is a page as a browser received it.
type webPage struct {
	status int
	forms  []*form
	doc    *html.Node
	text   string
}

// browse sends a request with b (a same-origin form post when vals is set)
// and parses the answer.
func (e *env) browse(b *browser, method, target string, vals url.Values) webPage {
	e.t.Helper()
	if !strings.HasPrefix(target, "http") {
		target = e.issuer + target
	}
	var body io.Reader
	if vals != nil {
		body = strings.NewReader(vals.Encode())
	}
	req, _ := http.NewRequest(method, target, body)
	if vals != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", e.issuer)
	}
	resp, err := b.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	forms, doc, err := parseForms(bytes.NewReader(raw))
	if err != nil {
		e.t.Fatal(err)
	}
	return webPage{status: resp.StatusCode, forms: forms, doc: doc, text: textOf(doc)}
}

// formFor returns the page's form posting to action.
func (p webPage) formFor(t testing.TB, action string) *form {
	t.Helper()
	for _, f := range p.forms {
		if f.action == action && f.method == http.MethodPost {
			return f
		}
	}
	t.Fatalf("no form posting to %s on the page (%d): %s", action, p.status, p.text)
	return nil
}

// hrefs returns the targets of the page's links.
func (p webPage) hrefs() []string {
	var out []string
	var visit func(*html.Node)
	visit = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "a" {
			out = append(out, attrs(n)["href"])
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			visit(c)
		}
	}
	visit(p.doc)
	return out
}

// hasLink reports whether the page links to a target starting with prefix.
func (p webPage) hasLink(prefix string) bool {
	for _, h := range p.hrefs() {
		if strings.HasPrefix(h, prefix) {
			return true
		}
	}
	return false
}

// fill returns the form's hidden fields with the given values set.
func (f *form) fill(kv ...string) url.Values {
	vals := url.Values{}
	for k, v := range f.fields {
		vals.Set(k, v)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		vals.Set(kv[i], kv[i+1])
	}
	return vals
}

var linkPattern = regexp.MustCompile(`https?://\S+\?token=([A-Za-z0-9_-]+)`)

// linkIn returns the single-use link of a mail (remembered as a secret)
// and its token.
func linkIn(t *testing.T, m mailtest.Received) (link, token string) {
	t.Helper()
	match := linkPattern.FindStringSubmatch(m.Text)
	if match == nil {
		t.Fatalf("no link in the mail %q:\n%s", m.Subject, m.Text)
	}
	remember(match[0], match[1])
	return match[0], match[1]
}

// mailsTo returns the received mails addressed to addr.
func mailsTo(all []mailtest.Received, addr string) []mailtest.Received {
	var out []mailtest.Received
	for _, m := range all {
		if len(m.To) == 1 && strings.EqualFold(m.To[0], addr) {
			out = append(out, m)
		}
	}
	return out
}

// verifyEmail marks a user's address verified, as if they had used a link.
func (e *env) verifyEmail(userID string) {
	e.t.Helper()
	err := e.store.UpdateUser(context.Background(), userID, func(u *storage.User) error {
		u.EmailVerified = true
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

// emailClaims are the email claims of an ID token or UserInfo answer.
type emailClaims struct {
	Email         string `json:"email"`
	EmailVerified bool   `json:"email_verified"`
}

func idTokenEmail(t *testing.T, tok *tokens) emailClaims {
	t.Helper()
	var c emailClaims
	if err := tok.idToken.Claims(&c); err != nil {
		t.Fatal(err)
	}
	return c
}

func (e *env) userInfoEmail(accessToken string) emailClaims {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.issuer+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+accessToken)
	status, body, _ := e.do(req)
	if status != http.StatusOK {
		e.t.Fatalf("userinfo: %d %v", status, body)
	}
	verified, _ := body["email_verified"].(bool)
	email, _ := body["email"].(string)
	return emailClaims{Email: email, EmailVerified: verified}
}
