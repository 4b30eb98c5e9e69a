package server_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/gatehouse/gatehouse/server/manage"
	"github.com/gatehouse/gatehouse/server/ui"
)

// A user who must use a second factor but has none sets one up inside the
// login, then returns to the authorization.
func TestForcedEnrollment(t *testing.T) {
	forEachMFABackend(t, func(t *testing.T, e *env, clock *testClock) {
		ctx := context.Background()
		e.role(manage.RoleSpec{Name: "auditors", Scopes: []string{"reports:read"}, RequireMFA: true})
		for _, tc := range []struct {
			name  string
			setup func(username string) (clientRequires bool, extra []oauth2.AuthCodeOption)
		}{
			{"user flag", func(u string) (bool, []oauth2.AuthCodeOption) {
				if _, err := e.manage.SetRequireMFA(ctx, u, true); err != nil {
					t.Fatal(err)
				}
				return false, nil
			}},
			{"client flag", func(string) (bool, []oauth2.AuthCodeOption) { return true, nil }},
			{"role", func(u string) (bool, []oauth2.AuthCodeOption) {
				e.grantUser(u, "auditors")
				return false, nil
			}},
			{"acr_values", func(string) (bool, []oauth2.AuthCodeOption) {
				return false, []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("acr_values", "urn:gatehouse:acr:mfa")}
			}},
		} {
			// One env for all cases, hence no subtests: its helpers fail
			// the test that created it.
			username := "forced-" + strings.ToLower(tc.name[:4]) + randomString(4)
			_, pw := e.user(username)
			clientRequires, extra := tc.setup(username)
			c, s := e.client(manage.ClientSpec{SkipConsent: true, RequireMFA: clientRequires})
			r := e.rp(c, s)
			a := r.authURL(extra...)
			m := &mfaFlow{e: e, clock: clock}
			code, v := r.login(newBrowser(t), a, person{username, pw, ""}, m.step)
			if !v.sawLogin || m.enrollment != 1 || len(m.codes) != 10 || m.secondFactor != 0 {
				t.Fatalf("%s: login %v, enrollment %d, %d recovery codes, code page %d", tc.name, v.sawLogin, m.enrollment, len(m.codes), m.secondFactor)
			}
			wantMFA(t, r.mustExchange(code, a), "pwd", "otp", "mfa")

			// From now on the login asks for a code from the new app.
			clock.Advance(30 * time.Second)
			a = r.authURL(extra...)
			next := &mfaFlow{e: e, clock: clock, code: func() string { return m.phone.code(0) }}
			code, _ = r.login(newBrowser(t), a, person{username, pw, ""}, next.step)
			if next.secondFactor != 1 || next.enrollment != 0 {
				t.Fatalf("%s, second login: code page %d, enrollment %d", tc.name, next.secondFactor, next.enrollment)
			}
			wantMFA(t, r.mustExchange(code, a), "pwd", "otp", "mfa")
		}
	})
}

// A session made with the password alone is stepped up when a second factor
// is needed: the code is asked, the password is not.
func TestStepUpPasswordOnlySession(t *testing.T) {
	forEachMFABackend(t, func(t *testing.T, e *env, clock *testClock) {
		_, pw := e.user("hugo")
		plain, ps := e.client(manage.ClientSpec{Name: "Wiki", SkipConsent: true})
		strict, ss := e.client(manage.ClientSpec{Name: "Payroll", SkipConsent: true, RequireMFA: true})
		wiki, payroll := e.rp(plain, ps), e.rp(strict, ss)
		b, other := newBrowser(t), newBrowser(t)
		first := claimsOf(t, wiki.fullLogin(b, person{"hugo", pw, ""}))
		if first.ACR != "urn:gatehouse:acr:pwd" || len(first.AMR) != 1 || first.AMR[0] != "pwd" {
			t.Fatalf("password login: amr %v, acr %q", first.AMR, first.ACR)
		}
		wiki.fullLogin(other, person{"hugo", pw, ""})

		// No page may be shown: prompt=none cannot step up.
		v := e.follow(b, payroll.authURL(oauth2.SetAuthURLParam("prompt", "none")).url, person{})
		if v.callback == nil || v.callback.Query().Get("error") != "login_required" {
			t.Fatalf("prompt=none on a password-only session: %v", v.callback)
		}

		// Hugo sets up an app elsewhere; this browser's session stays password-only.
		ph, _ := e.enrollByAccount(newBrowser(t), clock, "hugo", pw)
		a := payroll.authURL()
		m := &mfaFlow{e: e, clock: clock, code: func() string { return ph.code(0) }}
		code, v := payroll.login(b, a, person{}, m.step)
		if v.sawLogin || m.secondFactor != 1 {
			t.Fatalf("step-up: password page %v, code page %d times", v.sawLogin, m.secondFactor)
		}
		up := wantMFA(t, payroll.mustExchange(code, a), "pwd", "otp", "mfa")
		if up.AuthTime != first.AuthTime || up.SID != first.SID {
			t.Fatalf("the step-up changed auth_time or sid: %+v, was %+v", up, first)
		}

		// The stepped-up session serves the other client without any page.
		a = wiki.authURL()
		quiet := &mfaFlow{e: e, clock: clock}
		code, v = wiki.login(b, a, person{}, quiet.step)
		if v.sawLogin || quiet.secondFactor != 0 {
			t.Fatal("single sign-on after the step-up showed a page")
		}
		wantMFA(t, wiki.mustExchange(code, a), "pwd", "otp", "mfa")

		// Once enrolled, a user always uses the app: the other browser's
		// password-only session is stepped up even for the plain client.
		clock.Advance(30 * time.Second)
		a = wiki.authURL()
		m = &mfaFlow{e: e, clock: clock, code: func() string { return ph.code(0) }}
		code, v = wiki.login(other, a, person{}, m.step)
		if v.sawLogin || m.secondFactor != 1 {
			t.Fatalf("enrolled user's old session: password page %v, code page %d", v.sawLogin, m.secondFactor)
		}
		wantMFA(t, wiki.mustExchange(code, a), "pwd", "otp", "mfa")

		// prompt=login asks for both again.
		clock.Advance(30 * time.Second)
		a = wiki.authURL(oauth2.SetAuthURLParam("prompt", "login"))
		m = &mfaFlow{e: e, clock: clock, code: func() string { return ph.code(0) }}
		code, v = wiki.login(b, a, person{"hugo", pw, ""}, m.step)
		if !v.sawLogin || m.secondFactor != 1 {
			t.Fatalf("prompt=login: password page %v, code page %d", v.sawLogin, m.secondFactor)
		}
		if again := wantMFA(t, wiki.mustExchange(code, a), "pwd", "otp", "mfa"); again.AuthTime <= first.AuthTime {
			t.Fatal("prompt=login did not renew auth_time")
		}
	})
}

func TestResetMFA(t *testing.T) {
	forEachMFABackend(t, func(t *testing.T, e *env, clock *testClock) {
		ctx := context.Background()
		_, pw := e.user("ida")
		account := newBrowser(t)
		ph, _ := e.enrollByAccount(account, clock, "ida", pw)
		c, s := e.client(manage.ClientSpec{SkipConsent: true})
		r := e.rp(c, s)
		b := newBrowser(t)
		a := r.authURL()
		code, _ := r.login(b, a, person{"ida", pw, ""}, (&mfaFlow{e: e, clock: clock, code: func() string { return ph.code(0) }}).step)
		r.mustExchange(code, a)

		if _, removed, err := e.manage.ResetMFA(ctx, "ida"); err != nil || !removed {
			t.Fatalf("ResetMFA: %v, %v", removed, err)
		}
		// Her sessions are over, and the password alone signs her in again.
		if p := e.get(account, ui.AccountPath); p.status != http.StatusSeeOther || p.location() != ui.AccountSignInPath {
			t.Fatalf("account page after reset: %d to %q", p.status, p.location())
		}
		a = r.authURL()
		m := &mfaFlow{e: e, clock: clock}
		code, v := r.login(b, a, person{"ida", pw, ""}, m.step)
		if !v.sawLogin || m.secondFactor != 0 || m.enrollment != 0 {
			t.Fatalf("login after reset: password %v, code page %d, enrollment %d", v.sawLogin, m.secondFactor, m.enrollment)
		}
		if cl := claimsOf(t, r.mustExchange(code, a)); cl.ACR != "urn:gatehouse:acr:pwd" {
			t.Fatalf("acr after reset = %q", cl.ACR)
		}

		// Where the second factor is required, she sets up a new app.
		if _, err := e.manage.SetRequireMFA(ctx, "ida", true); err != nil {
			t.Fatal(err)
		}
		a = r.authURL(oauth2.SetAuthURLParam("prompt", "login"))
		m = &mfaFlow{e: e, clock: clock}
		code, _ = r.login(newBrowser(t), a, person{"ida", pw, ""}, m.step)
		if m.enrollment != 1 || m.phone.secret == ph.secret {
			t.Fatalf("after reset with require-mfa: enrollment %d", m.enrollment)
		}
		wantMFA(t, r.mustExchange(code, a), "pwd", "otp", "mfa")
	})
}

func TestPendingEnrollmentDoesNotGateLogin(t *testing.T) {
	forEachMFABackend(t, func(t *testing.T, e *env, clock *testClock) {
		_, pw := e.user("jo")
		b := newBrowser(t)
		e.accountSignIn(b, "jo", pw)
		if p := e.get(b, ui.AccountTOTPPath); p.status != http.StatusOK {
			t.Fatalf("enrollment page: %d", p.status)
		}
		c, s := e.client(manage.ClientSpec{SkipConsent: true})
		r := e.rp(c, s)
		a := r.authURL()
		m := &mfaFlow{e: e, clock: clock}
		code, _ := r.login(newBrowser(t), a, person{"jo", pw, ""}, m.step)
		if m.secondFactor != 0 || m.enrollment != 0 {
			t.Fatal("an unconfirmed enrollment asked for a code")
		}
		r.mustExchange(code, a)
	})
}
