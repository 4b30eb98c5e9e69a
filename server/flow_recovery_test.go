package server_test

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/server"
	"github.com/gatehouse/gatehouse/server/mail"
	"github.com/gatehouse/gatehouse/server/mail/mailtest"
	"github.com/gatehouse/gatehouse/server/manage"
)

// forgot fills in and posts the "forgot your password?" form.
func (e *env) forgot(b *browser, email string) webPage {
	e.t.Helper()
	form := e.browse(b, http.MethodGet, "/forgot", nil).formFor(e.t, "/forgot")
	if form.input("autocomplete", "email") == nil {
		e.t.Fatal("the forgot form has no input with autocomplete=email")
	}
	return e.browse(b, http.MethodPost, "/forgot", form.fill("email", email))
}

func TestPasswordReset(t *testing.T) {
	forEachBackendWithMail(t, false, func(t *testing.T, e *env, smtp *mailtest.Server) {
		id, oldPassword := e.user("rita")
		e.verifyEmail(id)
		c, secret := e.client(manage.ClientSpec{SkipConsent: true})
		rp := e.rp(c, secret)
		signedIn := newBrowser(t)
		tok := rp.fullLogin(signedIn, person{username: "rita", password: oldPassword})
		if tok.RefreshToken == "" {
			t.Fatal("no refresh token")
		}

		page := e.forgot(newBrowser(t), "Rita@Example.com")
		if page.status != http.StatusOK || !strings.Contains(page.text, "Check your mail") {
			t.Fatalf("forgot answered %d: %s", page.status, page.text)
		}
		link, _ := linkIn(t, smtp.WaitFor(t, 1, mailWait)[0])
		if !strings.HasPrefix(link, e.issuer+"/reset?token=") {
			t.Fatalf("reset link %q", link)
		}

		// The link survives GETs (mail scanners follow links).
		b := newBrowser(t)
		var form *form
		for range 2 {
			page = e.browse(b, http.MethodGet, link, nil)
			if page.status != http.StatusOK {
				t.Fatalf("GET of the reset link: %d %s", page.status, page.text)
			}
			form = page.formFor(t, "/reset")
			if form.input("autocomplete", "new-password") == nil {
				t.Fatal("the reset form has no input with autocomplete=new-password")
			}
		}

		// A cross-site POST is refused; a common password is refused and
		// leaves the link usable.
		newPassword := "pw-" + randomString(14)
		remember(newPassword)
		cross, _ := http.NewRequest(http.MethodPost, e.issuer+"/reset", strings.NewReader(form.fill("password", newPassword).Encode()))
		cross.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		cross.Header.Set("Sec-Fetch-Site", "cross-site")
		if resp, err := b.Do(cross); err != nil || resp.StatusCode != http.StatusForbidden {
			t.Fatalf("cross-site POST: %v %v", resp.Status, err)
		}
		page = e.browse(b, http.MethodPost, "/reset", form.fill("password", "QwertyUiop"))
		if page.status != http.StatusBadRequest || !strings.Contains(page.text, "most commonly used") {
			t.Fatalf("common password: %d %s", page.status, page.text)
		}
		page = e.browse(b, http.MethodPost, "/reset", form.fill("password", newPassword))
		if page.status != http.StatusOK || !strings.Contains(page.text, "password has been changed") {
			t.Fatalf("reset: %d %s", page.status, page.text)
		}

		// Signed out everywhere: the refresh token, the access token and
		// the browser session are gone.
		if status, body := rp.refresh(tok.RefreshToken); status != http.StatusBadRequest || body["error"] != "invalid_grant" {
			t.Fatalf("refresh after the reset: %d %v", status, body)
		}
		if active := e.introspect(tok.AccessToken, c.ID, secret)["active"]; active != false {
			t.Fatalf("the access token is still active: %v", active)
		}
		if v := e.follow(signedIn, rp.authURL().url, person{username: "rita", password: newPassword}); !v.sawLogin || v.callback == nil {
			t.Fatalf("the old session survived the reset (login page shown: %v)", v.sawLogin)
		}
		if v := e.follow(newBrowser(t), rp.authURL().url, person{username: "rita", password: oldPassword}); v.callback != nil {
			t.Fatal("the old password still signs in")
		}

		// The link works once; the page then offers a new one.
		page = e.browse(b, http.MethodPost, "/reset", form.fill("password", "pw-"+randomString(14)))
		if page.status != http.StatusGone || !page.hasLink("/forgot") {
			t.Fatalf("second use of the reset link: %d %s", page.status, page.text)
		}
		if page = e.browse(b, http.MethodGet, link, nil); page.status != http.StatusGone {
			t.Fatalf("GET of a used link: %d", page.status)
		}
	})
}

// "Forgot your password?" answers the same for an unknown address and
// sends nothing.
func TestForgotAnswersAlike(t *testing.T) {
	forEachBackendWithMail(t, false, func(t *testing.T, e *env, smtp *mailtest.Server) {
		ctx := context.Background()
		id, _ := e.user("known")
		e.verifyEmail(id)

		unknown := e.forgot(newBrowser(t), "nobody@example.com")
		known := e.forgot(newBrowser(t), "known@example.com")
		if unknown.status != known.status ||
			strings.ReplaceAll(unknown.text, "nobody@example.com", "ADDR") != strings.ReplaceAll(known.text, "known@example.com", "ADDR") {
			t.Fatalf("the answers differ:\n unknown (%d): %s\n known (%d): %s", unknown.status, unknown.text, known.status, known.text)
		}
		// Mails go out one at a time in order: once the second request's
		// mail arrived, a mail for the first would have arrived before it.
		all := smtp.WaitFor(t, 1, mailWait)
		if len(all) != 1 || all[0].To[0] != "known@example.com" {
			t.Fatalf("received %d mails, want exactly the one to the known address", len(all))
		}
		linkIn(t, all[0])
		if n, _ := e.store.CountMailsSince(ctx, "nobody@example.com", time.Now().Add(-time.Hour)); n != 0 {
			t.Fatalf("%d mail(s) recorded for the unknown address", n)
		}
	})
}

// The forms cannot flood a mailbox: at most MailsPerHour mails per address.
func TestMailRateLimitPerAddress(t *testing.T) {
	limit := func(c *server.Config) { c.MailsPerHour = 2 }
	forEachBackendWithMail(t, false, func(t *testing.T, e *env, smtp *mailtest.Server) {
		for _, name := range []string{"flood", "other"} {
			id, _ := e.user(name)
			e.verifyEmail(id)
		}
		b := newBrowser(t)
		for range 4 {
			if page := e.forgot(b, "flood@example.com"); page.status != http.StatusOK {
				t.Fatalf("forgot: %d %s", page.status, page.text)
			}
		}
		e.forgot(b, "other@example.com")
		all := smtp.WaitFor(t, 3, mailWait)
		for _, m := range all {
			linkIn(t, m)
		}
		if n := len(mailsTo(all, "flood@example.com")); n != 2 || len(all) != 3 {
			t.Fatalf("%d mails to the flooded address (%d in all), want 2 (3)", n, len(all))
		}
	}, limit)
}

// In dev mode without SMTP, mails become .eml files; the log names the
// file and never the link.
func TestDevModeMailFiles(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "mail")
			from, _ := mail.ParseFrom("Gatehouse <gatehouse@localhost>")
			files := func(c *server.Config) {
				c.Mail = mail.NewFileSender(dir, from, testLogger().With(slog.String("test", t.Name())))
				c.Registration = true
			}
			e := newEnv(t, b.dsn(t), files)
			page := e.register(newBrowser(t), "devuser", "dev@example.com", "pw-"+randomString(14))
			if page.status != http.StatusOK {
				t.Fatalf("register: %d %s", page.status, page.text)
			}
			name := waitForFile(t, dir)
			raw, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			m, err := mailtest.Decode(raw)
			if err != nil {
				t.Fatal(err)
			}
			_, token := linkIn(t, m)
			// The sender logs the name just after the file appears.
			deadline := time.Now().Add(mailWait)
			for !strings.Contains(logSink.String(), name) {
				if time.Now().After(deadline) {
					t.Fatalf("the log does not name %s", name)
				}
				time.Sleep(10 * time.Millisecond)
			}
			logs := logSink.String()
			if strings.Contains(logs, token) {
				t.Fatal("the log contains the link's token")
			}
			if u, err := e.store.FindUserByUsername(context.Background(), "devuser"); err != nil || u.EmailVerified {
				t.Fatalf("dev user: %+v %v", u, err)
			}
		})
	}
}

// waitForFile waits for the outbox to write the first .eml file into dir.
func waitForFile(t *testing.T, dir string) string {
	t.Helper()
	deadline := time.Now().Add(mailWait)
	for {
		if names, _ := filepath.Glob(filepath.Join(dir, "*.eml")); len(names) > 0 {
			return names[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("no .eml file in %s after %s", dir, mailWait)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
