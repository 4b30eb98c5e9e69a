package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	netmail "net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// Security is how an SMTP connection is protected.
type Security int

const (
	// StartTLS requires the STARTTLS upgrade (smtp://, port 587 by default).
	StartTLS Security = iota
	// ImplicitTLS speaks TLS from the first byte (smtps://, port 465).
	ImplicitTLS
	// Plain uses STARTTLS when offered, else no encryption at all. Only
	// smtp:// URLs naming a loopback host get it.
	Plain
)

// SMTPConfig says how to reach the mail server.
type SMTPConfig struct {
	Host     string
	Port     int
	Security Security
	// Username and Password, when set, authenticate (the strongest
	// mechanism the server offers).
	Username, Password string
	// From is the sender of every mail.
	From *netmail.Address
	// Timeout bounds connecting and each command; default 10s.
	Timeout time.Duration
	// TLSConfig overrides the TLS settings (tests trust their own CA).
	TLSConfig *tls.Config
}

// ParseSMTPURL reads smtp://[user:pass@]host[:port] (STARTTLS required,
// port 587) or smtps://[user:pass@]host[:port] (implicit TLS, port 465).
// An smtp:// URL naming a loopback host may also run without TLS. Errors
// never quote the URL: it may hold a password.
func ParseSMTPURL(raw string) (SMTPConfig, error) {
	var c SMTPConfig
	u, err := url.Parse(raw)
	if err != nil {
		return c, errors.New("the SMTP URL cannot be parsed")
	}
	var defPort int
	switch u.Scheme {
	case "smtp":
		c.Security, defPort = StartTLS, 587
	case "smtps":
		c.Security, defPort = ImplicitTLS, 465
	default:
		return c, errors.New("the SMTP URL must start with smtp:// or smtps://")
	}
	if u.Opaque != "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return c, errors.New("the SMTP URL must be scheme://[user:password@]host[:port], without path or query")
	}
	c.Host = u.Hostname()
	if c.Host == "" {
		return c, errors.New("the SMTP URL names no host")
	}
	c.Port = defPort
	if p := u.Port(); p != "" {
		if c.Port, err = strconv.Atoi(p); err != nil || c.Port < 1 || c.Port > 65535 {
			return c, errors.New("the SMTP URL has an invalid port")
		}
	}
	if u.User != nil {
		c.Username = u.User.Username()
		c.Password, _ = u.User.Password()
	}
	if c.Security == StartTLS && isLoopback(c.Host) {
		c.Security = Plain
	}
	return c, nil
}

// isLoopback reports whether host is localhost or a loopback address.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// SMTPSender delivers mail to an SMTP server, one connection per message.
type SMTPSender struct {
	cfg SMTPConfig
}

// NewSMTPSender checks cfg and returns a sender. Plain is refused for a
// host that is not a loopback address.
func NewSMTPSender(cfg SMTPConfig) (*SMTPSender, error) {
	if cfg.Host == "" || cfg.From == nil {
		return nil, errors.New("mail: an SMTP host and a sender address are required")
	}
	if cfg.Security == Plain && !isLoopback(cfg.Host) {
		return nil, errors.New("mail: SMTP without TLS is allowed only to a loopback host")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	return &SMTPSender{cfg: cfg}, nil
}

// Send delivers m.
func (s *SMTPSender) Send(ctx context.Context, m *Message) error {
	msg, err := m.build(s.cfg.From)
	if err != nil {
		return err
	}
	client, err := gomail.NewClient(s.cfg.Host, s.options()...)
	if err != nil {
		return fmt.Errorf("smtp client: %w", err)
	}
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("smtp delivery to %s:%d: %w", s.cfg.Host, s.cfg.Port, err)
	}
	return nil
}

func (s *SMTPSender) options() []gomail.Option {
	tlsConfig := s.cfg.TLSConfig
	if tlsConfig == nil {
		tlsConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	tlsConfig = tlsConfig.Clone()
	if tlsConfig.ServerName == "" {
		tlsConfig.ServerName = s.cfg.Host
	}
	opts := []gomail.Option{
		gomail.WithPort(s.cfg.Port),
		gomail.WithTimeout(s.cfg.Timeout),
		gomail.WithTLSConfig(tlsConfig),
	}
	switch s.cfg.Security {
	case ImplicitTLS:
		opts = append(opts, gomail.WithSSL())
	case StartTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case Plain:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	}
	if s.cfg.Username != "" {
		opts = append(opts,
			gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(s.cfg.Username),
			gomail.WithPassword(s.cfg.Password))
	}
	return opts
}
