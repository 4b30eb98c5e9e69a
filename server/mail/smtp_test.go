package mail_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/server/mail"
	"github.com/gatehouse/gatehouse/server/mail/mailtest"
)

func TestParseSMTPURL(t *testing.T) {
	tests := []struct {
		url      string
		host     string
		port     int
		security mail.Security
		user     string
		pass     string
		wantErr  bool
	}{
		{url: "smtp://user:p%40ss@mail.example.com:587", host: "mail.example.com", port: 587, security: mail.StartTLS, user: "user", pass: "p@ss"},
		{url: "smtp://mail.example.com", host: "mail.example.com", port: 587, security: mail.StartTLS},
		{url: "smtp://mail.example.com:25", host: "mail.example.com", port: 25, security: mail.StartTLS},
		{url: "smtps://u:p@mail.example.com", host: "mail.example.com", port: 465, security: mail.ImplicitTLS, user: "u", pass: "p"},
		{url: "smtp://127.0.0.1:2525", host: "127.0.0.1", port: 2525, security: mail.Plain},
		{url: "smtp://localhost", host: "localhost", port: 587, security: mail.Plain},
		{url: "smtp://[::1]:25", host: "::1", port: 25, security: mail.Plain},
		{url: "smtps://127.0.0.1", host: "127.0.0.1", port: 465, security: mail.ImplicitTLS},
		{url: "http://mail.example.com", wantErr: true},
		{url: "smtp://", wantErr: true},
		{url: "smtp://mail.example.com:0", wantErr: true},
		{url: "smtp://mail.example.com:99999", wantErr: true},
		{url: "smtp://mail.example.com/path", wantErr: true},
		{url: "smtp://mail.example.com?tls=off", wantErr: true},
		{url: "smtp://user:secret-pw@bad host", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			c, err := mail.ParseSMTPURL(tt.url)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("ParseSMTPURL accepted %q", tt.url)
				}
				if strings.Contains(err.Error(), "secret-pw") {
					t.Fatalf("the error quotes the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Host != tt.host || c.Port != tt.port || c.Security != tt.security || c.Username != tt.user || c.Password != tt.pass {
				t.Fatalf("ParseSMTPURL = %+v", c)
			}
		})
	}
}

func TestPlainSMTPOnlyToLoopback(t *testing.T) {
	from, _ := mail.ParseFrom("auth@example.com")
	if _, err := mail.NewSMTPSender(mail.SMTPConfig{Host: "mail.example.com", Port: 25, Security: mail.Plain, From: from}); err == nil {
		t.Fatal("plain SMTP to a remote host was accepted")
	}
	if _, err := mail.NewSMTPSender(mail.SMTPConfig{Host: "127.0.0.1", Port: 25, Security: mail.Plain, From: from}); err != nil {
		t.Fatalf("plain SMTP to loopback: %v", err)
	}
}

func send(t *testing.T, cfg mail.SMTPConfig) error {
	t.Helper()
	cfg.From, _ = mail.ParseFrom("Gatehouse <auth@example.com>")
	cfg.Timeout = 5 * time.Second
	s, err := mail.NewSMTPSender(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return s.Send(ctx, &mail.Message{To: "ann@example.org", Subject: "Hello\r\nBcc: evil@example.org", Text: "Line one\nhttps://example.com/reset?token=" + strings.Repeat("x", 90) + "\n"})
}

func config(t *testing.T, srv *mailtest.Server, scheme string, pool *x509.CertPool) mail.SMTPConfig {
	t.Helper()
	cfg, err := mail.ParseSMTPURL(srv.URL(scheme))
	if err != nil {
		t.Fatal(err)
	}
	cfg.TLSConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return cfg
}

func TestSMTPDelivery(t *testing.T) {
	cert, pool := mailtest.Certificate(t)
	serverTLS := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}

	t.Run("plain to loopback", func(t *testing.T) {
		srv := mailtest.Start(t)
		if err := send(t, config(t, srv, "smtp", pool)); err != nil {
			t.Fatal(err)
		}
		got := srv.WaitFor(t, 1, 10*time.Second)[0]
		if got.TLS || got.From != "auth@example.com" || len(got.To) != 1 || got.To[0] != "ann@example.org" {
			t.Fatalf("envelope: %+v", got)
		}
		if got.Subject != "Hello Bcc: evil@example.org" {
			t.Fatalf("subject %q: a line break must not start a header", got.Subject)
		}
		if !strings.Contains(got.Text, "https://example.com/reset?token="+strings.Repeat("x", 90)) {
			t.Fatalf("the link did not survive encoding:\n%s", got.Text)
		}
	})

	t.Run("STARTTLS with authentication", func(t *testing.T) {
		srv := mailtest.Start(t, mailtest.WithStartTLS(serverTLS), mailtest.WithAuth("mailer", "s3cret-pass"))
		cfg := config(t, srv, "smtp", pool)
		cfg.Security = mail.StartTLS
		cfg.Username, cfg.Password = "mailer", "s3cret-pass"
		if err := send(t, cfg); err != nil {
			t.Fatal(err)
		}
		if got := srv.WaitFor(t, 1, 10*time.Second)[0]; !got.TLS {
			t.Fatal("the message did not travel over TLS")
		}

		cfg.Password = "wrong"
		if err := send(t, cfg); err == nil {
			t.Fatal("a wrong password was accepted")
		}
	})

	t.Run("STARTTLS required but not offered", func(t *testing.T) {
		srv := mailtest.Start(t)
		cfg := config(t, srv, "smtp", pool)
		cfg.Security = mail.StartTLS
		if err := send(t, cfg); err == nil {
			t.Fatal("sent without TLS although STARTTLS is required")
		}
		if n := len(srv.Received()); n != 0 {
			t.Fatalf("%d message(s) went out in clear", n)
		}
	})

	t.Run("implicit TLS", func(t *testing.T) {
		srv := mailtest.Start(t, mailtest.WithImplicitTLS(serverTLS))
		if err := send(t, config(t, srv, "smtps", pool)); err != nil {
			t.Fatal(err)
		}
		if got := srv.WaitFor(t, 1, 10*time.Second)[0]; !got.TLS {
			t.Fatal("the message did not travel over TLS")
		}
	})

	t.Run("untrusted certificate", func(t *testing.T) {
		srv := mailtest.Start(t, mailtest.WithImplicitTLS(serverTLS))
		if err := send(t, config(t, srv, "smtps", x509.NewCertPool())); err == nil {
			t.Fatal("a certificate nobody trusts was accepted")
		}
	})
}
