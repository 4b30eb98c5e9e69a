package mail

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	netmail "net/mail"
	"path"
	"strings"
	"text/template"

	gomail "github.com/wneessen/go-mail"
)

// Message is one plain-text mail to one recipient.
type Message struct {
	To      string
	Subject string
	Text    string
}

// Sender delivers a message. Implementations are safe for concurrent use.
type Sender interface {
	Send(ctx context.Context, m *Message) error
}

// ParseFrom parses a sender address such as "Gatehouse <auth@example.com>".
func ParseFrom(from string) (*netmail.Address, error) {
	addr, err := netmail.ParseAddress(from)
	if err != nil {
		return nil, fmt.Errorf("mail: the sender address %q is not valid: %w", from, err)
	}
	return addr, nil
}

// build turns m into a go-mail message from the given sender.
func (m *Message) build(from *netmail.Address) (*gomail.Msg, error) {
	msg := gomail.NewMsg()
	msg.FromMailAddress(from)
	to, err := netmail.ParseAddress(m.To)
	if err != nil {
		// The address stays out of the error: it is personal data.
		return nil, fmt.Errorf("mail: invalid recipient address: %w", err)
	}
	msg.AddToMailAddress(to)
	// Templates write the subject; a line break would start a new header.
	msg.Subject(strings.Join(strings.Fields(m.Subject), " "))
	msg.SetDate()
	msg.SetMessageID()
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	return msg, nil
}

// Templates renders mails from text templates: one file per mail,
// mail/NAME.txt, defining a "subject" and a "body" template.
type Templates struct {
	siteName string
	byName   map[string]*template.Template
}

// NewTemplates parses every mail/*.txt of fsys.
func NewTemplates(fsys fs.FS, siteName string) (*Templates, error) {
	files, err := fs.Glob(fsys, "mail/*.txt")
	if err != nil {
		return nil, fmt.Errorf("mail templates: %w", err)
	}
	t := &Templates{siteName: siteName, byName: map[string]*template.Template{}}
	for _, file := range files {
		name := strings.TrimSuffix(path.Base(file), ".txt")
		tmpl, err := template.New(name).Option("missingkey=error").ParseFS(fsys, file)
		if err != nil {
			return nil, fmt.Errorf("parse mail template %s: %w", name, err)
		}
		if tmpl.Lookup("subject") == nil || tmpl.Lookup("body") == nil {
			return nil, fmt.Errorf("mail template %s must define \"subject\" and \"body\"", name)
		}
		t.byName[name] = tmpl
	}
	return t, nil
}

// Has reports whether a template of this name exists.
func (t *Templates) Has(name string) bool {
	_, ok := t.byName[name]
	return ok
}

// Render renders mail name to the address to. data is also given SiteName.
func (t *Templates) Render(name, to string, data map[string]any) (*Message, error) {
	tmpl, ok := t.byName[name]
	if !ok {
		return nil, fmt.Errorf("mail: no template %q", name)
	}
	all := map[string]any{"SiteName": t.siteName}
	for k, v := range data {
		all[k] = v
	}
	var subject, body bytes.Buffer
	if err := tmpl.ExecuteTemplate(&subject, "subject", all); err != nil {
		return nil, fmt.Errorf("render mail %s: %w", name, err)
	}
	if err := tmpl.ExecuteTemplate(&body, "body", all); err != nil {
		return nil, fmt.Errorf("render mail %s: %w", name, err)
	}
	return &Message{To: to, Subject: subject.String(), Text: strings.TrimLeft(body.String(), "\n")}, nil
}
