package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"time"

	"github.com/pquerna/otp/totp"
)

// browser is one person's browser: its own cookies, and the pages answered
// the way a person would. The cookies are __Host- and Secure (the issuer is
// https behind a TLS proxy); the load goes to the plain-HTTP listener on
// loopback, so this jar keeps and sends them itself. One worker uses it at
// a time.
type browser struct {
	h       *harness
	cookies map[string]string
}

func (h *harness) newBrowser() *browser { return &browser{h: h, cookies: map[string]string{}} }

func (b *browser) do(req *http.Request) (*http.Response, []byte, error) {
	for name, value := range b.cookies {
		req.AddCookie(&http.Cookie{Name: name, Value: value})
	}
	resp, body, err := b.h.do(req)
	if err != nil {
		return nil, nil, err
	}
	for _, c := range resp.Cookies() {
		if c.MaxAge < 0 || c.Value == "" {
			delete(b.cookies, c.Name)
		} else {
			b.cookies[c.Name] = c.Value
		}
	}
	return resp, body, nil
}

// person says how the browser answers the pages of a flow. A page it has
// no answer for ends the flow with an error.
type person struct {
	user    *loadUser // nil: no login page expected
	consent bool      // answer the consent page with "Allow"
}

var (
	reRequestID = regexp.MustCompile(`name="ar" value="([^"]*)"`)
	reFormStart = regexp.MustCompile(`<form method="post" action="([^"]*)"`)
	reTitle     = regexp.MustCompile(`<title>([^<]*)</title>`)
	reSecret    = regexp.MustCompile(`id="totp-secret">([^<]*)<`)
)

func pageTitle(body []byte) string {
	if m := reTitle.FindSubmatch(body); m != nil {
		return strings.TrimSpace(html.UnescapeString(string(m[1])))
	}
	return fmt.Sprintf("%d bytes", len(body))
}

// formAction is the action of the last form that starts before the given
// marker (the form holding that input).
func formAction(body []byte, marker string) (string, bool) {
	at := bytes.Index(body, []byte(marker))
	if at < 0 {
		return "", false
	}
	forms := reFormStart.FindAllSubmatch(body[:at], -1)
	if len(forms) == 0 {
		return "", false
	}
	return html.UnescapeString(string(forms[len(forms)-1][1])), true
}

// authorize follows an authorization request from start to the client's
// redirect URI, answering the pages as p would, and returns the code.
func (b *browser) authorize(ctx context.Context, start, redirectURI, state string, p person) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.h.local(start), nil)
	if err != nil {
		return "", err
	}
	logins := 0
	for range 12 {
		resp, body, err := b.do(req)
		if err != nil {
			return "", err
		}
		if resp.StatusCode == http.StatusFound || resp.StatusCode == http.StatusSeeOther {
			loc := resp.Header.Get("Location")
			if strings.HasPrefix(loc, redirectURI) {
				return codeFrom(loc, state)
			}
			if req, err = http.NewRequestWithContext(ctx, http.MethodGet, b.h.local(loc), nil); err != nil {
				return "", err
			}
			continue
		}
		if resp.StatusCode != http.StatusOK {
			return "", fmt.Errorf("%s %s: status %d (%s)", req.Method, req.URL.Path, resp.StatusCode, pageTitle(body))
		}
		var form url.Values
		var action string
		switch {
		case bytes.Contains(body, []byte(`autocomplete="current-password"`)):
			if p.user == nil || logins > 0 {
				return "", fmt.Errorf("login page at %s (%s)", req.URL.Path, pageTitle(body))
			}
			logins++
			action, form = "/login", url.Values{"username": {p.user.name}, "password": {p.user.password}}
		case bytes.Contains(body, []byte(`autocomplete="one-time-code"`)):
			if p.user == nil || p.user.totpSecret == "" {
				return "", fmt.Errorf("second-factor page at %s", req.URL.Path)
			}
			a, ok := formAction(body, `autocomplete="one-time-code"`)
			if !ok {
				return "", errors.New("second-factor page without a form")
			}
			code, err := p.user.totpCode()
			if err != nil {
				return "", err
			}
			action, form = a, url.Values{"code": {code}}
		case bytes.Contains(body, []byte(`name="consent" value="accept"`)):
			if !p.consent {
				return "", fmt.Errorf("consent page at %s", req.URL.Path)
			}
			action, form = "/consent", url.Values{"consent": {"accept"}}
		default:
			return "", fmt.Errorf("unexpected page at %s: %s", req.URL.Path, pageTitle(body))
		}
		if m := reRequestID.FindSubmatch(body); m != nil {
			form.Set("ar", html.UnescapeString(string(m[1])))
		}
		if req, err = http.NewRequestWithContext(ctx, http.MethodPost, b.h.local(action), strings.NewReader(form.Encode())); err != nil {
			return "", err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return "", errors.New("authorization flow: too many steps")
}

func codeFrom(location, state string) (string, error) {
	u, err := url.Parse(location)
	if err != nil {
		return "", fmt.Errorf("redirect: %w", err)
	}
	q := u.Query()
	if e := q.Get("error"); e != "" {
		return "", fmt.Errorf("authorization error %s: %s", e, q.Get("error_description"))
	}
	if q.Get("state") != state {
		return "", errors.New("redirect: state does not match")
	}
	if q.Get("code") == "" {
		return "", errors.New("redirect: no code")
	}
	return q.Get("code"), nil
}

// signInAccount signs the browser in on the account pages.
func (b *browser) signInAccount(ctx context.Context, u *loadUser) error {
	resp, body, err := b.postPage(ctx, "/account/signin", url.Values{"username": {u.name}, "password": {u.password}})
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusSeeOther {
		return fmt.Errorf("account sign-in of %s: status %d (%s)", u.name, resp.StatusCode, pageTitle(body))
	}
	return nil
}

// enrollTOTP sets up an authenticator app for the signed-in user the way a
// person does: read the setup key off the page, answer with a code.
func (b *browser) enrollTOTP(ctx context.Context, u *loadUser) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.h.target+"/account/totp", nil)
	if err != nil {
		return err
	}
	resp, body, err := b.do(req)
	if err != nil {
		return err
	}
	m := reSecret.FindSubmatch(body)
	if resp.StatusCode != http.StatusOK || m == nil {
		return fmt.Errorf("enrollment page for %s: status %d (%s)", u.name, resp.StatusCode, pageTitle(body))
	}
	u.totpSecret = strings.ReplaceAll(html.UnescapeString(string(m[1])), " ", "")
	code, err := u.totpCode()
	if err != nil {
		return err
	}
	resp, body, err = b.postPage(ctx, "/account/totp", url.Values{"code": {code}})
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte("recovery")) {
		return fmt.Errorf("confirm enrollment of %s: status %d (%s)", u.name, resp.StatusCode, pageTitle(body))
	}
	return nil
}

func (b *browser) postPage(ctx context.Context, path string, form url.Values) (*http.Response, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.h.target+path, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// loadUser is a provisioned user. Gatehouse accepts each TOTP code once:
// lastStep remembers the 30-second step of the user's last code.
type loadUser struct {
	name, password string
	totpSecret     string
	lastStep       atomic.Int64
}

func totpStep(t time.Time) int64 { return t.Unix() / 30 }

func (u *loadUser) totpCode() (string, error) {
	now := time.Now()
	u.lastStep.Store(totpStep(now))
	return totp.GenerateCode(u.totpSecret, now)
}
