package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/gatehouse/gatehouse/server/manage"
	"github.com/gatehouse/gatehouse/server/ui"
)

// checkPage holds a page to the rules every Gatehouse page follows: no
// script, a viewport for phones, a language, the CSP, every field labelled,
// every aria-describedby pointing at something, every error announced and
// tied to its field, every image described.
func checkPage(t *testing.T, name string, p page) {
	t.Helper()
	if !strings.Contains(p.header.Get("Content-Security-Policy"), "default-src 'none'") || p.header.Get("Cache-Control") != "no-store" {
		t.Errorf("%s: CSP %q, Cache-Control %q", name, p.header.Get("Content-Security-Policy"), p.header.Get("Cache-Control"))
	}
	if firstElement(p.doc, func(n *html.Node) bool { return n.Data == "script" }) != nil {
		t.Errorf("%s: the page has a script", name)
	}
	if firstElement(p.doc, func(n *html.Node) bool { return n.Data == "meta" && attrs(n)["name"] == "viewport" }) == nil ||
		firstElement(p.doc, func(n *html.Node) bool { return n.Data == "html" && attrs(n)["lang"] != "" }) == nil {
		t.Errorf("%s: no viewport or no lang", name)
	}
	described := map[string]bool{}
	walk(p.doc, func(n *html.Node) {
		if n.Type != html.ElementNode {
			return
		}
		a := attrs(n)
		switch {
		case n.Data == "input" && a["type"] != "hidden":
			if a["id"] == "" || firstElement(p.doc, func(l *html.Node) bool { return l.Data == "label" && attrs(l)["for"] == a["id"] }) == nil {
				t.Errorf("%s: input %q has no label", name, a["name"])
			}
		case n.Data == "img" && a["alt"] == "":
			t.Errorf("%s: image without alt text", name)
		}
		for _, id := range strings.Fields(a["aria-describedby"]) {
			described[id] = true
			if byID(p.doc, id) == nil {
				t.Errorf("%s: aria-describedby names a missing %q", name, id)
			}
		}
	})
	walk(p.doc, func(n *html.Node) {
		if a := attrs(n); n.Type == html.ElementNode && strings.Contains(a["class"], "error") {
			if a["role"] != "alert" || !described[a["id"]] {
				t.Errorf("%s: error %q is not an alert tied to its field", name, textOf(n))
			}
		}
	})
}

func TestSecondFactorPages(t *testing.T) {
	forEachMFABackend(t, func(t *testing.T, e *env, clock *testClock) {
		_, pw := e.user("nia")
		_, fresh := e.user("olaf")
		if _, err := e.manage.SetRequireMFA(t.Context(), "olaf", true); err != nil {
			t.Fatal(err)
		}
		account := newBrowser(t)
		ph, _ := e.enrollByAccount(account, clock, "nia", pw)
		c, s := e.client(manage.ClientSpec{Name: "Notes", SkipConsent: true})
		r := e.rp(c, s)
		issuer := mustURL(t, e.issuer)

		b, f := e.stopAtSecondFactor(r, clock, "nia", pw)
		second := e.get(b, f.action+"?ar="+url.QueryEscape(f.fields["ar"]))
		checkPage(t, "second factor", second)
		if !strings.Contains(second.text, "Notes") || f.input("autocomplete", "one-time-code")["name"] == "" {
			t.Errorf("second-factor page: %q", second.text)
		}
		checkPage(t, "second factor, wrong code", e.fetch(b, e.formPost(issuer, f, "code", ph.code(4))))

		// The enrollment inside a login, with and without an error.
		var enrollURL *url.URL
		eb := newBrowser(t)
		e.follow(eb, r.authURL().url, person{"olaf", fresh, ""}, func(pg *url.URL, _ []*form, doc *html.Node) *http.Request {
			if byID(doc, "totp-uri") != nil {
				enrollURL = pg
			}
			return nil
		})
		if enrollURL == nil || enrollURL.Path != ui.EnrollPath {
			t.Fatalf("no forced enrollment page: %v", enrollURL)
		}
		enroll := e.fetch(eb, mustRequest(t, enrollURL.String()))
		checkPage(t, "enrollment", enroll)
		ep, _ := readEnrollment(t, enroll.forms, enroll.doc)
		checkPage(t, "enrollment, wrong code", e.fetch(eb, e.formPost(issuer, ep.form, "code", "123")))

		checkPage(t, "account", e.get(account, ui.AccountPath))
		checkPage(t, "disable", e.get(account, ui.AccountDisablePath))
		checkPage(t, "disable, wrong code", e.post(account, ui.AccountDisablePath, url.Values{"code": {"000"}}))
		checkPage(t, "recovery codes", e.post(account, ui.AccountRecoveryPath, url.Values{"code": {ph.code(0)}}))
		checkPage(t, "password re-prompt", e.get(account, ui.AccountReauthPath+"?next=/account/totp"))
		checkPage(t, "password re-prompt, wrong password", e.post(account, ui.AccountReauthPath, url.Values{"password": {"nope"}}))
		checkPage(t, "account sign-in", e.get(newBrowser(t), ui.AccountSignInPath))
		checkPage(t, "account sign-in, wrong password", e.accountSignIn(newBrowser(t), "nia", "nope"))
		if p := e.get(account, ui.AccountReauthPath+"?next=https://evil.example/"); p.forms[0].fields["next"] != ui.AccountPath {
			t.Errorf("the re-prompt accepts a foreign return address: %q", p.forms[0].fields["next"])
		}
	})
}
