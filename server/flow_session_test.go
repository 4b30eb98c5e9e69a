package server_test

import (
	"testing"

	"golang.org/x/oauth2"

	"github.com/gatehouse/gatehouse/server/manage"
)

func TestSingleSignOnForSecondClient(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		_, pw := e.user("erin")
		c1, s1 := e.client(manage.ClientSpec{Name: "First", SkipConsent: true})
		c2, s2 := e.client(manage.ClientSpec{Name: "Second", SkipConsent: true})
		b := newBrowser(t)
		first := e.rp(c1, s1).fullLogin(b, person{"erin", pw, ""})

		r2 := e.rp(c2, s2)
		a := r2.authURL()
		code, v := r2.login(b, a, person{})
		if v.sawLogin {
			t.Fatal("second client asked for the password again")
		}
		second := r2.mustExchange(code, a)
		if second.idToken.Subject != first.idToken.Subject {
			t.Error("different subjects within one session")
		}
		var c1claims, c2claims struct {
			SID      string `json:"sid"`
			AuthTime int64  `json:"auth_time"`
		}
		_ = first.idToken.Claims(&c1claims)
		_ = second.idToken.Claims(&c2claims)
		if c1claims.SID != c2claims.SID || c1claims.AuthTime != c2claims.AuthTime {
			t.Errorf("sid/auth_time differ within one session: %+v %+v", c1claims, c2claims)
		}
	})
}

func TestPromptNoneWithoutSession(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		c, s := e.client(manage.ClientSpec{SkipConsent: true})
		r := e.rp(c, s)
		a := r.authURL(oauth2.SetAuthURLParam("prompt", "none"))
		v := e.follow(newBrowser(t), a.url, person{})
		if v.callback == nil {
			t.Fatalf("no error redirect: %s", v.page)
		}
		q := v.callback.Query()
		if q.Get("error") != "login_required" || q.Get("state") != a.state || q.Get("iss") != e.issuer {
			t.Fatalf("prompt=none without session: %v", q)
		}
	})
}

func TestPromptNoneNeedsConsent(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		_, pw := e.user("faye")
		first, s1 := e.client(manage.ClientSpec{SkipConsent: true})
		third, s3 := e.client(manage.ClientSpec{Name: "Third party"})
		b := newBrowser(t)
		e.rp(first, s1).fullLogin(b, person{"faye", pw, ""})
		a := e.rp(third, s3).authURL(oauth2.SetAuthURLParam("prompt", "none"))
		v := e.follow(b, a.url, person{})
		if v.callback == nil || v.callback.Query().Get("error") != "consent_required" {
			t.Fatalf("prompt=none without consent: %v", v.callback)
		}
	})
}

func TestPromptLoginAndMaxAge(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		_, pw := e.user("gina")
		c, s := e.client(manage.ClientSpec{SkipConsent: true})
		r := e.rp(c, s)
		b := newBrowser(t)
		first := r.fullLogin(b, person{"gina", pw, ""})

		for _, tc := range []struct {
			name      string
			opt       oauth2.AuthCodeOption
			wantLogin bool
		}{
			{"no prompt", nil, false},
			{"max_age large", oauth2.SetAuthURLParam("max_age", "3600"), false},
			{"prompt=login", oauth2.SetAuthURLParam("prompt", "login"), true},
			{"max_age=0", oauth2.SetAuthURLParam("max_age", "0"), true},
		} {
			var a authRequest
			if tc.opt != nil {
				a = r.authURL(tc.opt)
			} else {
				a = r.authURL()
			}
			code, v := r.login(b, a, person{"gina", pw, ""})
			if v.sawLogin != tc.wantLogin {
				t.Errorf("%s: login shown = %v, want %v", tc.name, v.sawLogin, tc.wantLogin)
			}
			tok := r.mustExchange(code, a)
			var claims struct {
				AuthTime int64 `json:"auth_time"`
			}
			_ = tok.idToken.Claims(&claims)
			if claims.AuthTime == 0 {
				t.Errorf("%s: no auth_time", tc.name)
			}
			if tok.idToken.Subject != first.idToken.Subject {
				t.Errorf("%s: subject changed", tc.name)
			}
		}
	})
}

func TestConsentRememberedAndRejected(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		_, pw := e.user("hank")
		c, s := e.client(manage.ClientSpec{Name: "Calendar"})
		r := e.rp(c, s)
		b := newBrowser(t)

		// Rejected: access_denied back to the client, with state and iss.
		a := r.authURL()
		v := e.follow(b, a.url, person{"hank", pw, "reject"})
		if v.callback == nil {
			t.Fatalf("reject: no redirect (%s)", v.page)
		}
		if q := v.callback.Query(); q.Get("error") != "access_denied" || q.Get("state") != a.state || q.Get("iss") != e.issuer {
			t.Fatalf("reject: %v", q)
		}

		// Accepted once, remembered after.
		a = r.authURL()
		_, v = r.login(b, a, person{"hank", pw, "accept"})
		if !v.sawConsent {
			t.Fatal("consent not asked the first time")
		}
		a = r.authURL()
		_, v = r.login(b, a, person{"hank", pw, ""})
		if v.sawConsent {
			t.Fatal("consent asked again for the same scopes")
		}
		// prompt=consent always asks, also for a skip-consent client.
		a = r.authURL(oauth2.SetAuthURLParam("prompt", "consent"))
		_, v = r.login(b, a, person{"hank", pw, "accept"})
		if !v.sawConsent {
			t.Fatal("prompt=consent did not ask")
		}
		fp, fps := e.client(manage.ClientSpec{SkipConsent: true})
		fr := e.rp(fp, fps)
		_, v = fr.login(b, fr.authURL(oauth2.SetAuthURLParam("prompt", "consent")), person{"hank", pw, "accept"})
		if !v.sawConsent {
			t.Fatal("prompt=consent did not ask for a skip-consent client")
		}
	})
}

func TestWrongPasswordGenericMessage(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		_, pw := e.user("ivan")
		c, s := e.client(manage.ClientSpec{SkipConsent: true})
		r := e.rp(c, s)
		wrong := e.follow(newBrowser(t), r.authURL().url, person{"ivan", pw + "x", ""})
		unknown := e.follow(newBrowser(t), r.authURL().url, person{"nobody", pw, ""})
		if wrong.callback != nil || unknown.callback != nil {
			t.Fatal("signed in with a wrong password")
		}
		if wrong.status != unknown.status || !containsAll(wrong.page, "Incorrect username or password") || !containsAll(unknown.page, "Incorrect username or password") {
			t.Fatalf("messages differ: %d %q / %d %q", wrong.status, wrong.page, unknown.status, unknown.page)
		}
	})
}
