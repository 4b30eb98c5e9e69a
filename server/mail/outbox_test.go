package mail_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/gatehouse/gatehouse/server/mail"
	"github.com/gatehouse/gatehouse/server/mail/mailtest"
)

// recorder is a Sender that keeps the order of deliveries and fails for
// one address.
type recorder struct {
	mu   sync.Mutex
	sent []string
	gate chan struct{}
}

func (r *recorder) Send(_ context.Context, m *mail.Message) error {
	if r.gate != nil {
		<-r.gate
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if m.To == "fail@example.org" {
		return errors.New("mailbox unavailable")
	}
	r.sent = append(r.sent, m.To)
	return nil
}

func TestOutboxDeliversInOrderAndLogs(t *testing.T) {
	var logs bytes.Buffer
	rec := &recorder{gate: make(chan struct{})}
	o := mail.NewOutbox(rec, slog.New(slog.NewTextHandler(&logs, nil)), time.Second)
	for _, to := range []string{"a@example.org", "fail@example.org", "b@example.org", "c@example.org"} {
		if !o.Post(&mail.Message{To: to, Text: "secret-link-" + to}, "kind", "test") {
			t.Fatalf("Post(%s) dropped the message", to)
		}
	}
	// Post returned before any delivery: the sender is still blocked.
	close(rec.gate)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := o.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(rec.sent, " "); got != "a@example.org b@example.org c@example.org" {
		t.Fatalf("delivered %q, want the order of posting without the failed one", got)
	}
	if n := strings.Count(logs.String(), "mail sent"); n != 3 {
		t.Errorf("%d \"mail sent\" lines, want 3:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), "mail not sent") || !strings.Contains(logs.String(), "mailbox unavailable") {
		t.Errorf("the failure was not logged:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), "secret-link") {
		t.Errorf("a message body reached the log:\n%s", logs.String())
	}

	// The outbox starts again after being idle, and refuses mail once closed.
	if !o.Post(&mail.Message{To: "d@example.org"}) {
		t.Fatal("Post after idle dropped the message")
	}
	if err := o.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if rec.sent[len(rec.sent)-1] != "d@example.org" {
		t.Fatal("Close did not wait for the queued message")
	}
	if o.Post(&mail.Message{To: "e@example.org"}) {
		t.Fatal("a closed outbox accepted a message")
	}
}

func TestFileSender(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "mail")
	var logs bytes.Buffer
	from, _ := mail.ParseFrom("Gatehouse <gatehouse@localhost>")
	s := mail.NewFileSender(dir, from, slog.New(slog.NewTextHandler(&logs, nil)))
	link := "http://localhost:8080/reset?token=tok-" + strings.Repeat("z", 40)
	if err := s.Send(context.Background(), &mail.Message{To: "ann@example.org", Subject: "Reset", Text: "Open " + link + "\n"}); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.eml"))
	if len(files) != 1 {
		t.Fatalf("%d .eml files, want 1", len(files))
	}
	for path, want := range map[string]os.FileMode{dir: 0o700, files[0]: 0o600} {
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v (%v)", path, fi.Mode().Perm(), want, err)
		}
	}
	raw, _ := os.ReadFile(files[0])
	got, err := mailtest.Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	if got.Subject != "Reset" || !strings.Contains(got.Text, link) {
		t.Fatalf("file content: subject %q, text %q", got.Subject, got.Text)
	}
	if !strings.Contains(logs.String(), files[0]) {
		t.Errorf("the log does not name the file:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), "tok-") {
		t.Errorf("the link reached the log:\n%s", logs.String())
	}
}

func TestTemplates(t *testing.T) {
	fsys := fstest.MapFS{
		"mail/hello.txt": {Data: []byte(`{{define "subject"}}Hello from {{.SiteName}}{{end}}
{{define "body"}}
Hi {{.Name}}, open {{.Link}}
{{end}}`)},
	}
	tmpl, err := mail.NewTemplates(fsys, "Gatehouse")
	if err != nil {
		t.Fatal(err)
	}
	m, err := tmpl.Render("hello", "ann@example.org", map[string]any{"Name": "Ann <3", "Link": "https://x/?a=1&b=2"})
	if err != nil {
		t.Fatal(err)
	}
	if m.To != "ann@example.org" || m.Subject != "Hello from Gatehouse" || m.Text != "Hi Ann <3, open https://x/?a=1&b=2\n" {
		t.Fatalf("rendered %+v", m)
	}
	if _, err := tmpl.Render("hello", "x@example.org", map[string]any{"Name": "no link"}); err == nil {
		t.Fatal("a missing field rendered")
	}
	if _, err := tmpl.Render("nope", "x@example.org", nil); err == nil {
		t.Fatal("an unknown template rendered")
	}
	bad := fstest.MapFS{"mail/x.txt": {Data: []byte(`{{define "subject"}}x{{end}}`)}}
	if _, err := mail.NewTemplates(bad, "G"); err == nil {
		t.Fatal("a template without a body was accepted")
	}
}
