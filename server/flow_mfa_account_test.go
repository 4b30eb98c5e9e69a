package server_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/server/manage"
	"github.com/gatehouse/gatehouse/server/ui"
)

func enrolled(t *testing.T, e *env, userID string) bool {
	t.Helper()
	_, err := e.store.FindTOTPCredential(context.Background(), userID)
	return err == nil
}

// Turning the second factor off needs a password checked within 10 minutes
// and a current code (or a recovery code).
func TestDisableSecondFactor(t *testing.T) {
	forEachMFABackend(t, func(t *testing.T, e *env, clock *testClock) {
		id, pw := e.user("kai")
		b := newBrowser(t)
		ph, codes := e.enrollByAccount(b, clock, "kai", pw)
		if p := e.get(b, ui.AccountDisablePath); p.status != http.StatusOK || p.forms[0].input("autocomplete", "one-time-code") == nil {
			t.Fatalf("disable page: %d %q", p.status, p.text)
		}

		// Another site cannot submit the form.
		req, _ := http.NewRequest(http.MethodPost, e.issuer+ui.AccountDisablePath, strings.NewReader(url.Values{"code": {ph.code(0)}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", "https://evil.example")
		if p := e.fetch(b, req); p.status != http.StatusForbidden || !enrolled(t, e, id) {
			t.Fatalf("cross-site disable: %d", p.status)
		}
		// Without a right code: refused.
		for _, code := range []string{"", ph.code(4), "ZZZZ-ZZZZ-ZZZZ"} {
			if p := e.post(b, ui.AccountDisablePath, url.Values{"code": {code}}); p.status != http.StatusUnauthorized || !enrolled(t, e, id) {
				t.Fatalf("disable with code %q: %d, enrolled %v", code, p.status, enrolled(t, e, id))
			}
		}

		// Eleven minutes later the password is asked first, whatever the code.
		clock.Advance(11 * time.Minute)
		p := e.post(b, ui.AccountDisablePath, url.Values{"code": {ph.code(0)}})
		reauth := ui.AccountReauthPath + "?" + url.Values{"next": {ui.AccountDisablePath}}.Encode()
		if p.status != http.StatusSeeOther || p.location() != reauth || !enrolled(t, e, id) {
			t.Fatalf("disable with an old password check: %d to %q", p.status, p.location())
		}
		if p = e.get(b, ui.AccountDisablePath); p.status != http.StatusSeeOther || p.location() != reauth {
			t.Fatalf("disable page with an old password check: %d to %q", p.status, p.location())
		}
		prompt := e.get(b, reauth)
		if prompt.status != http.StatusOK || prompt.forms[0].input("autocomplete", "current-password") == nil {
			t.Fatalf("password re-prompt: %d %q", prompt.status, prompt.text)
		}
		if p = e.post(b, ui.AccountReauthPath, url.Values{"next": {ui.AccountDisablePath}, "password": {pw + "x"}}); p.status != http.StatusUnauthorized {
			t.Fatalf("re-prompt with a wrong password: %d", p.status)
		}
		if p = e.post(b, ui.AccountReauthPath, url.Values{"next": {ui.AccountDisablePath}, "password": {pw}}); p.status != http.StatusSeeOther || p.location() != ui.AccountDisablePath {
			t.Fatalf("re-prompt: %d to %q", p.status, p.location())
		}

		// Password and a recovery code: off.
		p = e.post(b, ui.AccountDisablePath, url.Values{"code": {codes[5]}})
		if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location(), ui.AccountPath+"?") || enrolled(t, e, id) {
			t.Fatalf("disable: %d to %q, enrolled %v", p.status, p.location(), enrolled(t, e, id))
		}
		home := e.get(b, p.location())
		if textOf(byID(home.doc, "mfa-status")) != "Off" || !strings.Contains(home.text, "Two-factor login is off") {
			t.Fatalf("account page after disabling: %q", home.text)
		}
		if codes, _ := e.store.ListRecoveryCodes(context.Background(), id); len(codes) != 0 {
			t.Fatalf("%d recovery codes left after disabling", len(codes))
		}
	})
}

func TestRegenerateRecoveryCodes(t *testing.T) {
	forEachMFABackend(t, func(t *testing.T, e *env, clock *testClock) {
		_, pw := e.user("lea")
		b := newBrowser(t)
		ph, old := e.enrollByAccount(b, clock, "lea", pw)
		p := e.post(b, ui.AccountRecoveryPath, url.Values{"code": {ph.code(0)}})
		fresh, next := recoveryCodesOn(p.doc)
		if p.status != http.StatusOK || len(fresh) != 10 || next != ui.AccountPath {
			t.Fatalf("regenerate: %d, %d codes: %q", p.status, len(fresh), p.text)
		}
		for _, c := range fresh {
			if slices.Contains(old, c) {
				t.Fatal("a new recovery code repeats an old one")
			}
		}
		c, s := e.client(manage.ClientSpec{SkipConsent: true})
		r := e.rp(c, s)
		stale := &mfaFlow{e: e, clock: clock, code: func() string { return old[1] }}
		if v := e.follow(newBrowser(t), r.authURL().url, person{"lea", pw, ""}, stale.step); v.callback != nil || v.status != http.StatusUnauthorized {
			t.Fatalf("an old recovery code after regeneration: %v %d", v.callback, v.status)
		}
		a := r.authURL()
		code, _ := r.login(newBrowser(t), a, person{"lea", pw, ""}, (&mfaFlow{e: e, clock: clock, code: func() string { return fresh[1] }}).step)
		wantMFA(t, r.mustExchange(code, a), "pwd", "mfa")

		// Without a recent password check the codes stay.
		clock.Advance(11 * time.Minute)
		if p := e.post(b, ui.AccountRecoveryPath, url.Values{"code": {fresh[2]}}); p.status != http.StatusSeeOther || !strings.HasPrefix(p.location(), ui.AccountReauthPath) {
			t.Fatalf("regenerate with an old password check: %d to %q", p.status, p.location())
		}
	})
}

func TestAccountSignInWithSecondFactor(t *testing.T) {
	forEachMFABackend(t, func(t *testing.T, e *env, clock *testClock) {
		_, pw := e.user("max")
		before := newBrowser(t)
		if p := e.accountSignIn(before, "max", pw); p.location() != ui.AccountPath {
			t.Fatalf("password-only account sign-in: %d to %q", p.status, p.location())
		}
		if p := e.accountSignIn(newBrowser(t), "max", "wrong password"); p.status != http.StatusUnauthorized || !strings.Contains(p.text, "Incorrect username or password") {
			t.Fatalf("wrong password: %d %q", p.status, p.text)
		}
		ph, _ := e.enrollByAccount(newBrowser(t), clock, "max", pw)

		// With an authenticator app, the password alone does not sign in.
		b := newBrowser(t)
		if p := e.accountSignIn(b, "max", pw); p.status != http.StatusSeeOther || p.location() != ui.AccountVerifyPath {
			t.Fatalf("sign-in with an app: %d to %q", p.status, p.location())
		}
		if p := e.get(b, ui.AccountPath); p.location() != ui.AccountSignInPath {
			t.Fatalf("account page before the code: %d to %q", p.status, p.location())
		}
		if p := e.get(b, ui.AccountVerifyPath); p.status != http.StatusOK || p.forms[0].input("autocomplete", "one-time-code") == nil {
			t.Fatalf("code page: %d %q", p.status, p.text)
		}
		if p := e.post(b, ui.AccountVerifyPath, url.Values{"code": {ph.code(3)}}); p.status != http.StatusUnauthorized {
			t.Fatalf("wrong code: %d", p.status)
		}
		if p := e.post(b, ui.AccountVerifyPath, url.Values{"code": {ph.code(0)}}); p.status != http.StatusSeeOther || p.location() != ui.AccountPath {
			t.Fatalf("code: %d to %q", p.status, p.location())
		}
		if p := e.get(b, ui.AccountPath); p.status != http.StatusOK {
			t.Fatalf("account page after the code: %d", p.status)
		}

		// The session made before the app was set up is stepped up first.
		clock.Advance(30 * time.Second)
		if p := e.get(before, ui.AccountPath); p.location() != ui.AccountVerifyPath {
			t.Fatalf("old session: %d to %q", p.status, p.location())
		}
		if p := e.post(before, ui.AccountVerifyPath, url.Values{"code": {ph.code(0)}}); p.location() != ui.AccountPath {
			t.Fatalf("step-up of the old session: %d to %q", p.status, p.location())
		}
		if p := e.get(before, ui.AccountPath); p.status != http.StatusOK {
			t.Fatalf("account page after the step-up: %d", p.status)
		}
	})
}
