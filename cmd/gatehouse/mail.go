package main

import (
	"fmt"
	"log/slog"
	netmail "net/mail"
	"path/filepath"
	"strconv"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/gatehouse/gatehouse/server/mail"
)

const (
	envRegistration = "GATEHOUSE_REGISTRATION"
	envSMTPURL      = "GATEHOUSE_SMTP_URL"
	envMailFrom     = "GATEHOUSE_MAIL_FROM"
	envMailsPerHour = "GATEHOUSE_MAILS_PER_HOUR"

	// devMailDir, inside the data directory, receives the mails of dev
	// mode without an SMTP server, as .eml files.
	devMailDir  = "mail"
	devMailFrom = "Gatehouse <gatehouse@localhost>"
)

func addMailFlags(f *pflag.FlagSet) {
	f.String("registration", "", "self-registration: open or closed (env "+envRegistration+", default closed; open needs mail)")
	f.String("smtp-url", "", "mail server: smtp://user:pass@host:587 (STARTTLS) or smtps://user:pass@host:465 (env "+envSMTPURL+", preferred: it holds a password)")
	f.String("mail-from", "", "sender of Gatehouse's mails, e.g. \"Gatehouse <auth@example.com>\" (env "+envMailFrom+"; required with an SMTP URL)")
	f.String("mails-per-hour", "", "most mails sent to one address in an hour (env "+envMailsPerHour+", default 5)")
}

// mailSettings is how serve sends mail, resolved and checked.
type mailSettings struct {
	registration bool
	// smtp is set when a mail server is configured; otherwise dev mode
	// writes files into fileDir, and production sends no mail at all.
	smtp    *mail.SMTPConfig
	fileDir string
	from    *netmail.Address
	perHour int
}

func (a *app) mailSettings(cmd *cobra.Command, dev bool, dataDir string) (mailSettings, error) {
	var m mailSettings
	switch reg := a.setting(cmd, "registration", envRegistration, "closed"); reg {
	case "open":
		m.registration = true
	case "closed":
	default:
		return m, fmt.Errorf("%s %q: want open or closed", envRegistration, reg)
	}
	perHour := a.setting(cmd, "mails-per-hour", envMailsPerHour, "5")
	n, err := strconv.Atoi(perHour)
	if err != nil || n < 1 || n > 1000 {
		return m, fmt.Errorf("%s %q: want a number from 1 to 1000", envMailsPerHour, perHour)
	}
	m.perHour = n

	from := a.setting(cmd, "mail-from", envMailFrom, "")
	rawURL := a.setting(cmd, "smtp-url", envSMTPURL, "")
	switch {
	case rawURL != "":
		cfg, err := mail.ParseSMTPURL(rawURL)
		if err != nil {
			return m, fmt.Errorf("%s: %w", envSMTPURL, err)
		}
		if from == "" {
			return m, fmt.Errorf("%s is required with %s: the address Gatehouse's mails come from", envMailFrom, envSMTPURL)
		}
		m.smtp = &cfg
	case dev:
		m.fileDir = filepath.Join(dataDir, devMailDir)
		if from == "" {
			from = devMailFrom
		}
	case m.registration:
		return m, fmt.Errorf("%s=open needs a mail server: set %s (verification mails)", envRegistration, envSMTPURL)
	default:
		return m, nil
	}
	if m.from, err = mail.ParseFrom(from); err != nil {
		return m, fmt.Errorf("%s: %w", envMailFrom, err)
	}
	if m.smtp != nil {
		m.smtp.From = m.from
		if _, err := mail.NewSMTPSender(*m.smtp); err != nil {
			return m, fmt.Errorf("%s: %w", envSMTPURL, err)
		}
	}
	return m, nil
}

// sender returns the configured mail sender, or nil when there is none.
func (m mailSettings) sender(logger *slog.Logger) (mail.Sender, error) {
	switch {
	case m.smtp != nil:
		s, err := mail.NewSMTPSender(*m.smtp)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", envSMTPURL, err)
		}
		logger.Info("mail goes out through SMTP", "host", m.smtp.Host, "port", m.smtp.Port)
		return s, nil
	case m.fileDir != "":
		logger.Info("no SMTP server configured: mails are written as .eml files", "dir", m.fileDir)
		return mail.NewFileSender(m.fileDir, m.from, logger), nil
	default:
		logger.Warn("no SMTP server configured (" + envSMTPURL + "): password recovery by mail is off")
		return nil, nil
	}
}
