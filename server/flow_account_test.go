package server_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/server"
	"github.com/gatehouse/gatehouse/server/mail/mailtest"
	"github.com/gatehouse/gatehouse/server/manage"
	"github.com/gatehouse/gatehouse/server/policy"
)

// quickLockout locks after 3 failures for one second, without extra delay.
func quickLockout(c *server.Config) {
	c.Lockout = policy.Lockout{Threshold: 3, Window: time.Minute, Durations: []time.Duration{time.Second}}
	c.LockoutDelay = time.Millisecond
}

// tryLogin starts an authorization in b and submits username and password;
// it returns the status and text of the page that follows, or status 303
// when the person got through.
func (e *env) tryLogin(b *browser, r *rp, username, password string) (int, string) {
	e.t.Helper()
	p := e.get(b, strings.TrimPrefix(r.authURL().url, e.issuer))
	for p.status == http.StatusSeeOther && strings.HasPrefix(p.location(), "/") {
		p = e.get(b, p.location())
	}
	if len(p.forms) != 1 {
		e.t.Fatalf("no login form: %d %s", p.status, p.text)
	}
	vals := url.Values{}
	for k, v := range p.forms[0].fields {
		vals.Set(k, v)
	}
	vals.Set("username", username)
	vals.Set("password", password)
	res := e.post(b, "/login", vals)
	return res.status, res.text
}

func TestLoginLockout(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		_, pw := e.user("olive")
		c, s := e.client(manage.ClientSpec{SkipConsent: true})
		r := e.rp(c, s)

		// The owner signs in once from her browser: it gets a device cookie.
		owner := newBrowser(t)
		r.fullLogin(owner, person{"olive", pw, ""})
		e.get(owner, "/logout") // a confirmation page; the session stays until confirmed
		e.post(owner, "/logout", url.Values{})

		// A stranger at the same address guesses: locked after 3 failures.
		stranger := newBrowser(t)
		for i := range 3 {
			// The failure that reaches the threshold already says so.
			want := http.StatusUnauthorized
			if i == 2 {
				want = http.StatusTooManyRequests
			}
			if status, _ := e.tryLogin(stranger, r, "olive", "wrong-"+randomString(8)); status != want {
				t.Fatalf("failure %d: status %d, want %d", i+1, status, want)
			}
		}
		status, text := e.tryLogin(stranger, r, "olive", pw)
		if status != http.StatusTooManyRequests || !strings.Contains(text, "Try again after") {
			t.Fatalf("locked account with the right password: %d %q", status, text)
		}

		// Unknown usernames behave exactly the same.
		other := newBrowser(t)
		ghost := "ghost-" + randomString(6)
		for range 3 {
			e.tryLogin(other, r, ghost, "wrong-password")
		}
		if status, text := e.tryLogin(other, r, ghost, "wrong-password"); status != http.StatusTooManyRequests || !strings.Contains(text, "Try again after") {
			t.Fatalf("unknown user not locked like a real one: %d %q", status, text)
		}

		// The owner's browser is still let in.
		if status, text := e.tryLogin(owner, r, "olive", pw); status != http.StatusSeeOther {
			t.Fatalf("owner with device cookie: %d %q", status, text)
		}

		// The lock expires.
		time.Sleep(1100 * time.Millisecond)
		if status, text := e.tryLogin(stranger, r, "olive", pw); status != http.StatusSeeOther {
			t.Fatalf("after the lock expired: %d %q", status, text)
		}
		if !hasLogLine("security event: lockout") {
			t.Error("no lockout security event logged")
		}
	}, quickLockout)
}

func TestUnlockLiftsTheLock(t *testing.T) {
	e := newEnv(t, backends[0].dsn(t), func(c *server.Config) {
		c.Lockout = policy.Lockout{Threshold: 2, Window: time.Hour, Durations: []time.Duration{time.Hour}}
		c.LockoutDelay = time.Millisecond
	})
	_, pw := e.user("pia")
	c, s := e.client(manage.ClientSpec{SkipConsent: true})
	r := e.rp(c, s)
	b := newBrowser(t)
	for range 2 {
		e.tryLogin(b, r, "Pia", "wrong-password")
	}
	if status, _ := e.tryLogin(b, r, "pia", pw); status != http.StatusTooManyRequests {
		t.Fatalf("not locked (usernames compare case-insensitively): %d", status)
	}
	if _, err := e.manage.UnlockUser(context.Background(), "pia"); err != nil {
		t.Fatal(err)
	}
	if status, text := e.tryLogin(b, r, "pia", pw); status != http.StatusSeeOther {
		t.Fatalf("after unlock: %d %q", status, text)
	}
}

func TestChangePasswordEndsOtherSessions(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		_, pw := e.user("quincy")
		c, s := e.client(manage.ClientSpec{SkipConsent: true})
		r := e.rp(c, s)
		here, there := newBrowser(t), newBrowser(t)
		r.fullLogin(here, person{"quincy", pw, ""})
		old := r.fullLogin(there, person{"quincy", pw, ""})

		p := e.get(here, "/account/password")
		if p.status != http.StatusOK || len(p.forms) != 1 || p.forms[0].input("autocomplete", "new-password") == nil || p.forms[0].input("autocomplete", "current-password") == nil {
			t.Fatalf("password page: %d %s", p.status, p.text)
		}
		if res := e.post(here, "/account/password", url.Values{"current_password": {"wrong-password"}, "new_password": {"a brand new password"}}); res.status != http.StatusUnauthorized {
			t.Fatalf("wrong current password: %d", res.status)
		}
		if res := e.post(here, "/account/password", url.Values{"current_password": {pw}, "new_password": {"password123"}}); res.status != http.StatusBadRequest {
			t.Fatalf("common new password: %d %s", res.status, res.text)
		}
		newPW := "new-" + randomString(16)
		remember(newPW)
		res := e.post(here, "/account/password", url.Values{"current_password": {pw}, "new_password": {newPW}})
		if res.status != http.StatusSeeOther {
			t.Fatalf("change password: %d %s", res.status, res.text)
		}
		// This browser stays signed in; the other one is signed out.
		if p := e.get(here, res.location()); p.status != http.StatusOK || !strings.Contains(p.text, "password is changed") {
			t.Errorf("account page after the change: %d %q", p.status, p.text)
		}
		if _, v := r.login(here, r.authURL(), person{"quincy", newPW, ""}); v.sawLogin {
			t.Error("the browser that changed the password was signed out")
		}
		if _, v := r.login(there, r.authURL(), person{"quincy", newPW, ""}); !v.sawLogin {
			t.Error("the other browser is still signed in")
		}
		if status, _ := r.refresh(old.RefreshToken); status == http.StatusOK {
			t.Error("a refresh token from before the change still works")
		}
	})
}

func TestConnectedAppsAndActivity(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		_, pw := e.user("rosa")
		c, s := e.client(manage.ClientSpec{Name: "Recipe Box"})
		r := e.rp(c, s)
		b := newBrowser(t)
		tok := r.fullLogin(b, person{"rosa", pw, "accept"})

		account := e.get(b, "/account")
		if !strings.Contains(account.text, "Recent sign-ins") || !strings.Contains(account.text, "127.0.0.1") {
			t.Errorf("no sign-in activity: %q", account.text)
		}
		apps := e.get(b, "/account/apps")
		if apps.status != http.StatusOK || !strings.Contains(apps.text, "Recipe Box") || !strings.Contains(apps.text, "last used") {
			t.Fatalf("connected apps: %d %q", apps.status, apps.text)
		}
		var revoke *form
		for _, f := range apps.forms {
			if f.fields["client_id"] == c.ID {
				revoke = f
			}
		}
		if revoke == nil {
			t.Fatal("no revoke form carrying the client_id")
		}
		if res := e.post(b, "/account/apps", url.Values{"client_id": {c.ID}}); res.status != http.StatusSeeOther {
			t.Fatalf("revoke: %d", res.status)
		}
		if e.introspect(tok.AccessToken, c.ID, s)["active"] != false {
			t.Error("the app's access token is still active")
		}
		if status, _ := r.refresh(tok.RefreshToken); status == http.StatusOK {
			t.Error("the app's refresh token still works")
		}
		if _, v := r.login(b, r.authURL(), person{"rosa", pw, "accept"}); !v.sawConsent {
			t.Error("consent not asked again after removing the app")
		}

		// Sign out everywhere from the account page.
		tok = r.fullLogin(newBrowser(t), person{"rosa", pw, "accept"})
		if res := e.post(b, "/account/sign-out-everywhere", url.Values{}); res.status != http.StatusOK || !strings.Contains(res.text, "signed out") {
			t.Fatalf("sign out everywhere: %d %q", res.status, res.text)
		}
		if e.introspect(tok.AccessToken, c.ID, s)["active"] != false {
			t.Error("token active after signing out everywhere")
		}
		if p := e.get(b, "/account"); p.status != http.StatusSeeOther {
			t.Errorf("account page after signing out everywhere: %d", p.status)
		}
	})
}

func TestProfileEmailChangeIsVerifiedFirst(t *testing.T) {
	forEachBackendWithMail(t, false, func(t *testing.T, e *env, smtp *mailtest.Server) {
		id, pw := e.user("sven")
		e.verifyEmail(id)
		c, s := e.client(manage.ClientSpec{SkipConsent: true})
		r := e.rp(c, s)
		b := newBrowser(t)
		r.fullLogin(b, person{"sven", pw, ""})

		p := e.get(b, "/account/profile")
		if p.status != http.StatusOK || len(p.forms) != 1 || p.forms[0].input("autocomplete", "email") == nil || p.forms[0].input("autocomplete", "name") == nil {
			t.Fatalf("profile page: %d %s", p.status, p.text)
		}
		if res := e.post(b, "/account/profile", url.Values{"name": {"Sven S."}, "email": {"not-an-address"}}); res.status != http.StatusBadRequest {
			t.Fatalf("bad address: %d", res.status)
		}
		res := e.post(b, "/account/profile", url.Values{"name": {"Sven S."}, "email": {"sven.new@example.com"}})
		if res.status != http.StatusSeeOther || !strings.Contains(res.location(), "email-sent") {
			t.Fatalf("profile save: %d %q", res.status, res.location())
		}
		// The name changed at once; the address only after its link is used.
		u, err := e.manage.GetUser(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if u.DisplayName != "Sven S." || u.Email != "sven@example.com" || !u.EmailVerified {
			t.Fatalf("user after the save: %+v", u)
		}
		mails := smtp.WaitFor(t, 1, 10*time.Second)
		if got := mailsTo(mails, "sven.new@example.com"); len(got) != 1 {
			t.Fatalf("verification mails to the new address: %d", len(got))
		}
		link, token := linkIn(t, mailsTo(mails, "sven.new@example.com")[0])
		if !strings.Contains(link, "/verify") {
			t.Fatalf("link %q", link)
		}
		if res := e.post(b, "/verify", url.Values{"token": {token}}); res.status >= 400 {
			t.Fatalf("verify: %d %s", res.status, res.text)
		}
		u, _ = e.manage.GetUser(context.Background(), id)
		if u.Email != "sven.new@example.com" || !u.EmailVerified {
			t.Fatalf("user after verification: %+v", u)
		}
	})
}
