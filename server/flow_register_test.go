package server_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/server/mail/mailtest"
	"github.com/gatehouse/gatehouse/server/manage"
)

// register fills in and posts the registration form.
func (e *env) register(b *browser, username, email, password string) webPage {
	e.t.Helper()
	form := e.browse(b, http.MethodGet, "/register", nil).formFor(e.t, "/register")
	for _, ac := range []string{"username", "email", "new-password"} {
		in := form.input("autocomplete", ac)
		if in == nil || in["id"] == "" {
			e.t.Fatalf("the registration form has no input with autocomplete=%s and an id for its label", ac)
		}
	}
	remember(password)
	return e.browse(b, http.MethodPost, "/register", form.fill("username", username, "email", email, "password", password))
}

func TestRegistrationWithVerification(t *testing.T) {
	forEachBackendWithMail(t, true, func(t *testing.T, e *env, smtp *mailtest.Server) {
		ctx := context.Background()
		c, secret := e.client(manage.ClientSpec{SkipConsent: true})
		rp := e.rp(c, secret, "openid", "email")
		password := "pw-" + randomString(14)

		page := e.register(newBrowser(t), "newbie", "Newbie@Example.org", password)
		if page.status != http.StatusOK || !strings.Contains(page.text, "Check your mail") {
			t.Fatalf("registration answered %d: %s", page.status, page.text)
		}
		m := smtp.WaitFor(t, 1, mailWait)[0]
		if m.To[0] != "Newbie@Example.org" || !strings.Contains(m.Subject, "Confirm your email") {
			t.Fatalf("mail to %v: %q", m.To, m.Subject)
		}
		link, _ := linkIn(t, m)
		if !strings.HasPrefix(link, e.issuer+"/verify?token=") {
			t.Fatalf("verification link %q does not point to %s/verify", link, e.issuer)
		}

		// A self-registered user may sign in before verifying.
		tok := rp.fullLogin(newBrowser(t), person{username: "newbie", password: password})
		if got := idTokenEmail(t, tok); got.Email != "Newbie@Example.org" || got.EmailVerified {
			t.Fatalf("before verification the ID token says %+v", got)
		}

		// Following the link (twice: mail scanners do) shows a form and
		// uses nothing up.
		b := newBrowser(t)
		var form *form
		for range 2 {
			page = e.browse(b, http.MethodGet, link, nil)
			if page.status != http.StatusOK {
				t.Fatalf("GET of the verification link: %d %s", page.status, page.text)
			}
			form = page.formFor(t, "/verify")
		}
		u, err := e.store.FindUserByUsername(ctx, "newbie")
		if err != nil || u.EmailVerified {
			t.Fatalf("verified by a GET: %+v %v", u, err)
		}

		page = e.browse(b, http.MethodPost, "/verify", form.fill())
		if page.status != http.StatusOK || !strings.Contains(page.text, "confirmed") {
			t.Fatalf("POST of the verification form: %d %s", page.status, page.text)
		}
		if u, _ := e.store.FindUserByUsername(ctx, "newbie"); !u.EmailVerified {
			t.Fatal("the address is not verified after the POST")
		}
		tok = rp.fullLogin(newBrowser(t), person{username: "newbie", password: password})
		if got := idTokenEmail(t, tok); !got.EmailVerified {
			t.Fatalf("after verification the ID token says %+v", got)
		}
		if got := e.userInfoEmail(tok.AccessToken); !got.EmailVerified || got.Email != "Newbie@Example.org" {
			t.Fatalf("after verification UserInfo says %+v", got)
		}

		// The link works once; the page then offers a new one.
		page = e.browse(b, http.MethodPost, "/verify", form.fill())
		if page.status != http.StatusGone {
			t.Fatalf("second POST of the verification link: %d %s", page.status, page.text)
		}
		page.formFor(t, "/verify/resend")
	})
}

// The owner of an address gets a "you already have an account" mail; the
// person registering sees exactly what anyone else sees.
func TestRegistrationWithAnExistingAddress(t *testing.T) {
	forEachBackendWithMail(t, true, func(t *testing.T, e *env, smtp *mailtest.Server) {
		ctx := context.Background()
		ownerID, _ := e.user("owner")
		e.verifyEmail(ownerID)

		fresh := e.register(newBrowser(t), "fresh", "fresh@example.com", "pw-"+randomString(14))
		taken := e.register(newBrowser(t), "intruder", "OWNER@example.com", "pw-"+randomString(14))
		if fresh.status != taken.status ||
			strings.ReplaceAll(fresh.text, "fresh@example.com", "ADDR") != strings.ReplaceAll(taken.text, "OWNER@example.com", "ADDR") {
			t.Fatalf("the answers differ:\n new address (%d): %s\n known address (%d): %s", fresh.status, fresh.text, taken.status, taken.text)
		}

		all := smtp.WaitFor(t, 2, mailWait)
		notice := mailsTo(all, "owner@example.com")
		if len(notice) != 1 || !strings.Contains(notice[0].Subject, "already have") {
			t.Fatalf("mails to the owner: %+v", notice)
		}
		if strings.Contains(notice[0].Text, "token=") || !strings.Contains(notice[0].Text, `"owner"`) ||
			!strings.Contains(notice[0].Text, e.issuer+"/forgot") {
			t.Fatalf("the notice should name the account and link to /forgot, without a link token:\n%s", notice[0].Text)
		}
		if got := mailsTo(all, "fresh@example.com"); len(got) != 1 || !strings.Contains(got[0].Text, "/verify?token=") {
			t.Fatalf("mails to the new address: %+v", got)
		}
		// The second account exists (nothing tells it apart) but can never
		// verify the owner's address.
		intruder, err := e.store.FindUserByUsername(ctx, "intruder")
		if err != nil || intruder.EmailVerified {
			t.Fatalf("intruder account: %+v %v", intruder, err)
		}
		owner, _ := e.store.FindUser(ctx, ownerID)
		if !owner.EmailVerified || owner.Email != "owner@example.com" {
			t.Fatalf("the owner's account changed: %+v", owner)
		}
	})
}

func TestRegistrationRefusals(t *testing.T) {
	forEachBackendWithMail(t, true, func(t *testing.T, e *env, smtp *mailtest.Server) {
		ctx := context.Background()
		e.user("taken")

		page := e.register(newBrowser(t), "carla", "carla@example.com", "Password123")
		in := page.formFor(t, "/register").input("autocomplete", "new-password")
		if page.status != http.StatusBadRequest || in["aria-invalid"] != "true" ||
			!strings.Contains(in["aria-describedby"], "password-error") || !strings.Contains(page.text, "most commonly used") {
			t.Fatalf("a common password: %d %v %s", page.status, in, page.text)
		}
		page = e.register(newBrowser(t), "TAKEN", "someone@example.com", "pw-"+randomString(14))
		if in := page.formFor(t, "/register").input("autocomplete", "username"); page.status != http.StatusBadRequest || in["aria-invalid"] != "true" {
			t.Fatalf("a taken username: %d %s", page.status, page.text)
		}
		page = e.register(newBrowser(t), "dora", "not-an-address", "pw-"+randomString(14))
		if in := page.formFor(t, "/register").input("autocomplete", "email"); page.status != http.StatusBadRequest || in["aria-invalid"] != "true" {
			t.Fatalf("a bad address: %d %s", page.status, page.text)
		}
		for _, name := range []string{"carla", "dora"} {
			if _, err := e.store.FindUserByUsername(ctx, name); err == nil {
				t.Errorf("a refused registration created %s", name)
			}
		}
		if n, _ := e.store.CountMailsSince(ctx, "carla@example.com", time.Now().Add(-time.Hour)); n != 0 {
			t.Errorf("a refused registration sent %d mail(s)", n)
		}
	})
}

// Registration is closed by default: 404, and the login page does not offer
// it. Without a mail server, recovery says it is not available.
func TestRegistrationClosedAndNoMail(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		b := newBrowser(t)
		for _, path := range []string{"/register", "/forgot"} {
			if page := e.browse(b, http.MethodGet, path, nil); page.status != http.StatusNotFound {
				t.Errorf("GET %s: %d, want 404", path, page.status)
			}
		}
		login := e.loginPage(b)
		if !login.hasLink("/forgot") || login.hasLink("/register") {
			t.Fatalf("login page links %v: want /forgot and no /register", login.hrefs())
		}
	})
}

func TestLoginPageOffersRegistrationWhenOpen(t *testing.T) {
	forEachBackendWithMail(t, true, func(t *testing.T, e *env, _ *mailtest.Server) {
		if login := e.loginPage(newBrowser(t)); !login.hasLink("/forgot") || !login.hasLink("/register?ar=") {
			t.Fatalf("login page links %v: want /forgot and /register", login.hrefs())
		}
	})
}

// loginPage starts an authorization and returns the login page it leads to.
func (e *env) loginPage(b *browser) webPage {
	e.t.Helper()
	c, secret := e.client(manage.ClientSpec{})
	target := e.rp(c, secret).authURL().url
	for range 5 {
		resp, err := b.Get(target)
		if err != nil {
			e.t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther && resp.StatusCode != http.StatusFound {
			break
		}
		loc, _ := resp.Request.URL.Parse(resp.Header.Get("Location"))
		target = loc.String()
	}
	page := e.browse(b, http.MethodGet, target, nil)
	page.formFor(e.t, "/login")
	return page
}
