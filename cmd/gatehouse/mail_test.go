package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/server/mail/mailtest"
)

func TestServeRefusesBadMailConfiguration(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string
	}{
		{"registration without mail", map[string]string{"GATEHOUSE_REGISTRATION": "open"}, "needs a mail server"},
		{"registration typo", map[string]string{"GATEHOUSE_REGISTRATION": "yes"}, "want open or closed"},
		{"SMTP without sender", map[string]string{"GATEHOUSE_SMTP_URL": "smtp://mail.example.com"}, "GATEHOUSE_MAIL_FROM is required"},
		{"bad sender", map[string]string{"GATEHOUSE_SMTP_URL": "smtp://mail.example.com", "GATEHOUSE_MAIL_FROM": "not an address"}, "GATEHOUSE_MAIL_FROM"},
		{"bad scheme", map[string]string{"GATEHOUSE_SMTP_URL": "http://u:hunter2-secret@mail.example.com", "GATEHOUSE_MAIL_FROM": "a@example.com"}, "smtp://"},
		{"unparsable URL", map[string]string{"GATEHOUSE_SMTP_URL": "smtp://u:hunter2-secret@bad host", "GATEHOUSE_MAIL_FROM": "a@example.com"}, "cannot be parsed"},
		{"mail limit", map[string]string{"GATEHOUSE_MAILS_PER_HOUR": "0"}, "GATEHOUSE_MAILS_PER_HOUR"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newCLI(t)
			c.env["GATEHOUSE_ADDR"] = "127.0.0.1:0"
			c.env["GATEHOUSE_ISSUER"] = "https://auth.example.com"
			for k, v := range tc.env {
				c.env[k] = v
			}
			stderr := c.fails("", "serve")
			if !strings.Contains(stderr, tc.wantErr) {
				t.Fatalf("stderr %q, want it to contain %q", stderr, tc.wantErr)
			}
			if strings.Contains(stderr, "hunter2") {
				t.Fatalf("the error shows the SMTP password: %q", stderr)
			}
		})
	}
}

// register posts the registration form of a running server.
func registerOn(t *testing.T, addr, username, email string) {
	t.Helper()
	form := url.Values{"username": {username}, "email": {email}, "password": {"pw-" + username + "-Xk29qLm"}}
	resp, err := http.PostForm("http://"+addr+"/register", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /register: %d", resp.StatusCode)
	}
}

var tokenPattern = regexp.MustCompile(`\?token=([A-Za-z0-9_-]+)`)

// In dev mode without SMTP, mails land in <data-dir>/mail and the log names
// the file, never the link.
func TestServeDevWritesMailFiles(t *testing.T) {
	c := newCLI(t)
	c.env["GATEHOUSE_ADDR"] = "127.0.0.1:0"
	c.env["GATEHOUSE_REGISTRATION"] = "open"
	run := startDev(t, c)
	registerOn(t, run.info.Addr, "devreg", "devreg@example.com")
	run.proc.stop(t) // stopping waits for queued mail
	files, _ := filepath.Glob(filepath.Join(c.dir, "mail", "*.eml"))
	if len(files) != 1 {
		t.Fatalf("%d .eml files in the data directory's mail folder, want 1\nstderr:\n%s", len(files), run.proc.stderr)
	}
	raw, _ := os.ReadFile(files[0])
	m, err := mailtest.Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	token := tokenPattern.FindStringSubmatch(m.Text)
	if token == nil || !strings.Contains(m.Text, run.info.Issuer+"/verify?token=") {
		t.Fatalf("no verification link in the mail:\n%s", m.Text)
	}
	logs := run.proc.stderr.String()
	if !strings.Contains(logs, files[0]) {
		t.Fatalf("the log does not name %s:\n%s", files[0], logs)
	}
	assertNoSecretsLogged(t, logs, token[1])
}

// With GATEHOUSE_SMTP_URL, mail goes to the SMTP server (here a real one
// on 127.0.0.1, where plain SMTP is allowed).
func TestServeSendsMailOverSMTP(t *testing.T) {
	smtp := mailtest.Start(t)
	c := newCLI(t)
	c.env["GATEHOUSE_ADDR"] = "127.0.0.1:0"
	c.env["GATEHOUSE_ISSUER"] = "https://auth.example.com"
	c.env["GATEHOUSE_REGISTRATION"] = "open"
	c.env["GATEHOUSE_SMTP_URL"] = smtp.URL("smtp")
	c.env["GATEHOUSE_MAIL_FROM"] = "Auth <auth@example.com>"
	p := start(t, c.command("", "serve", "--json"))
	var info devStarted
	if err := json.Unmarshal([]byte(p.readLine(t, time.Minute)), &info); err != nil {
		t.Fatal(err)
	}
	registerOn(t, info.Addr, "smtpreg", "smtpreg@example.com")
	got := smtp.WaitFor(t, 1, 30*time.Second)[0]
	p.stop(t)
	if got.From != "auth@example.com" || got.To[0] != "smtpreg@example.com" ||
		!strings.Contains(got.Text, "https://auth.example.com/verify?token=") {
		t.Fatalf("received %+v", got)
	}
	assertNoSecretsLogged(t, p.stderr.String(), tokenPattern.FindStringSubmatch(got.Text)[1])
}
