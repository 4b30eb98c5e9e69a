package server_test

import (
	"bytes"
	"encoding/base64"
	"image/png"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"golang.org/x/net/html"

	"github.com/gatehouse/gatehouse/server"
	"github.com/gatehouse/gatehouse/server/ui"
)

// testClock is the server's clock in the second-factor tests: frozen (so a
// TOTP step does not change under a test) and moved only by Advance. It
// starts at the beginning of the 30-second step three minutes ago: fosite
// refuses an auth_time more than 5 s ahead of real time, so a test may
// advance it by up to three minutes and still complete authorizations
// (only the lockout and password re-check tests go further, and they stop
// before the client gets a code).
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newTestClock() *testClock {
	start := time.Now().Add(-3 * time.Minute).Unix()
	return &testClock{t: time.Unix(start-start%30, 0).UTC()}
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func withClock(c *testClock) func(*server.Config) {
	return func(cfg *server.Config) { cfg.Now = c.Now }
}

// phone is a person's authenticator app: the secret it was given, and the
// server's clock.
type phone struct {
	t      testing.TB
	secret string
	clock  *testClock
}

// code returns the code shown steps time steps from now.
func (p *phone) code(steps int) string {
	p.t.Helper()
	c, err := totp.GenerateCodeCustom(p.secret, p.clock.Now().Add(time.Duration(steps)*30*time.Second),
		totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		p.t.Fatal(err)
	}
	remember(c)
	return c
}

// enrollmentPage is what the enrollment page shows.
type enrollmentPage struct {
	uri, secret string
	form        *form
}

// readEnrollment reads an enrollment page: the otpauth URI as text, which
// the QR code must encode exactly, and the secret for manual entry.
func readEnrollment(t testing.TB, forms []*form, doc *html.Node) (enrollmentPage, bool) {
	t.Helper()
	uriNode, img := byID(doc, "totp-uri"), firstElement(doc, func(n *html.Node) bool { return n.Data == "img" && attrs(n)["class"] == "qr" })
	if uriNode == nil || img == nil {
		return enrollmentPage{}, false
	}
	var p enrollmentPage
	p.uri = textOf(uriNode)
	u, err := url.Parse(p.uri)
	if err != nil || u.Scheme != "otpauth" || u.Host != "totp" {
		t.Fatalf("the page shows %q, not an otpauth://totp URI", p.uri)
	}
	p.secret = u.Query().Get("secret")
	if shown := strings.ReplaceAll(textOf(byID(doc, "totp-secret")), " ", ""); shown != p.secret {
		t.Fatalf("the setup key %q differs from the URI's secret", shown)
	}
	remember(p.uri, p.secret)
	if got := decodeQR(t, attrs(img)["src"]); got != p.uri {
		t.Fatalf("the QR code decodes to %q, want exactly the URI %q", got, p.uri)
	}
	for _, f := range forms {
		if f.input("autocomplete", "one-time-code") != nil {
			p.form = f
		}
	}
	if p.form == nil {
		t.Fatal("the enrollment page has no one-time-code input")
	}
	return p, true
}

// decodeQR decodes a data:image/png;base64 QR code.
func decodeQR(t testing.TB, src string) string {
	t.Helper()
	b64, ok := strings.CutPrefix(src, "data:image/png;base64,")
	if !ok {
		t.Fatalf("QR code src is not a PNG data URL: %.40q", src)
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	// The image is a pure, axis-aligned code with its quiet zone: decode it
	// as such. (ZXing's finder-pattern search, meant for camera pictures,
	// misses about 1 in 100 synthetic codes that decode fine this way.)
	res, err := qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]interface{}{gozxing.DecodeHintType_PURE_BARCODE: true})
	if err != nil {
		t.Fatalf("decode QR code: %v", err)
	}
	return res.GetText()
}

// recoveryCodesOn returns the recovery codes a page shows and its continue link.
func recoveryCodesOn(doc *html.Node) ([]string, string) {
	list := byID(doc, "recovery-codes")
	if list == nil {
		return nil, ""
	}
	var codes []string
	walk(list, func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "code" {
			codes = append(codes, textOf(n))
		}
	})
	remember(codes...)
	next := firstElement(doc, func(n *html.Node) bool { return n.Data == "a" && strings.Contains(attrs(n)["class"], "button") })
	if next == nil {
		return codes, ""
	}
	return codes, attrs(next)["href"]
}

// mfaFlow answers the second-factor pages during follow, and records what
// it saw.
type mfaFlow struct {
	e *env
	// code returns what to type on the second-factor page; nil stops there.
	code func() string
	// phone is filled in by enrollment.
	phone *phone
	clock *testClock
	// Seen: how often each page was answered; Codes: the recovery codes shown.
	secondFactor, enrollment int
	codes                    []string
	// form is the last second-factor form (to post to it by hand).
	form *form
}

func (m *mfaFlow) step(page *url.URL, forms []*form, doc *html.Node) *http.Request {
	t := m.e.t
	t.Helper()
	for _, f := range forms {
		if f.action == ui.SecondFactorPath && f.input("autocomplete", "one-time-code") != nil {
			m.form = f
			m.secondFactor++
			if m.code == nil || m.secondFactor > 1 {
				return nil // stop here (or the page came back: the code was refused)
			}
			return m.e.formPost(page, f, "code", m.code())
		}
	}
	if ep, ok := readEnrollment(t, forms, doc); ok {
		m.enrollment++
		if m.enrollment > 1 {
			return nil
		}
		m.phone = &phone{t: t, secret: ep.secret, clock: m.clock}
		return m.e.formPost(page, ep.form, "code", m.phone.code(0))
	}
	if codes, next := recoveryCodesOn(doc); codes != nil {
		m.codes = codes
		u, _ := page.Parse(next)
		req, _ := http.NewRequest(http.MethodGet, u.String(), nil)
		return req
	}
	return nil
}

// formPost builds the POST of form f (its hidden fields) with field set to value.
func (e *env) formPost(page *url.URL, f *form, field, value string) *http.Request {
	vals := url.Values{}
	for k, v := range f.fields {
		vals.Set(k, v)
	}
	name := field
	if in := f.input("autocomplete", "one-time-code"); in != nil && field == "code" {
		name = in["name"]
	}
	vals.Set(name, value)
	action, _ := page.Parse(f.action)
	req, _ := http.NewRequest(http.MethodPost, action.String(), strings.NewReader(vals.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", action.Scheme+"://"+action.Host)
	return req
}

// page is a fetched page.
type page struct {
	status int
	header http.Header
	forms  []*form
	doc    *html.Node
	text   string
	url    *url.URL
}

// location is the redirect target of a 3xx page.
func (p page) location() string { return p.header.Get("Location") }

// get fetches path from the issuer with b, without following redirects.
func (e *env) get(b *browser, path string) page {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.issuer+path, nil)
	return e.fetch(b, req)
}

// post submits vals to path as a same-origin form.
func (e *env) post(b *browser, path string, vals url.Values) page {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.issuer+path, strings.NewReader(vals.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", e.issuer)
	return e.fetch(b, req)
}

func (e *env) fetch(b *browser, req *http.Request) page {
	e.t.Helper()
	resp, err := b.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	forms, doc, err := parseForms(bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	return page{status: resp.StatusCode, header: resp.Header, forms: forms, doc: doc, text: textOf(doc), url: req.URL}
}

func byID(doc *html.Node, id string) *html.Node {
	return firstElement(doc, func(n *html.Node) bool { return attrs(n)["id"] == id })
}

func firstElement(doc *html.Node, match func(*html.Node) bool) *html.Node {
	var found *html.Node
	walk(doc, func(n *html.Node) {
		if found == nil && n.Type == html.ElementNode && match(n) {
			found = n
		}
	})
	return found
}

func walk(n *html.Node, f func(*html.Node)) {
	f(n)
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		walk(c, f)
	}
}

// accountSignIn posts the account sign-in form.
func (e *env) accountSignIn(b *browser, username, password string) page {
	e.t.Helper()
	return e.post(b, ui.AccountSignInPath, url.Values{"username": {username}, "password": {password}})
}

// enrollByAccount signs the user in on the account pages with b and sets up
// an authenticator app there. It returns the phone and the recovery codes,
// and moves the clock one step on, so that the phone's next code is new.
func (e *env) enrollByAccount(b *browser, clock *testClock, username, password string) (*phone, []string) {
	t := e.t
	t.Helper()
	if p := e.accountSignIn(b, username, password); p.status != http.StatusSeeOther || p.location() != ui.AccountPath {
		t.Fatalf("account sign-in: %d to %q: %s", p.status, p.location(), p.text)
	}
	p := e.get(b, ui.AccountTOTPPath)
	ep, ok := readEnrollment(t, p.forms, p.doc)
	if p.status != http.StatusOK || !ok {
		t.Fatalf("enrollment page: %d %s", p.status, p.text)
	}
	ph := &phone{t: t, secret: ep.secret, clock: clock}
	done := e.post(b, ui.AccountTOTPPath, url.Values{"code": {ph.code(0)}})
	codes, next := recoveryCodesOn(done.doc)
	if done.status != http.StatusOK || len(codes) != 10 || next != ui.AccountPath {
		t.Fatalf("confirming the enrollment: %d, %d codes, continue %q: %s", done.status, len(codes), next, done.text)
	}
	clock.Advance(30 * time.Second)
	return ph, codes
}
