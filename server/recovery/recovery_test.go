package recovery_test

import (
	"context"
	"errors"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/server/credential"
	"github.com/gatehouse/gatehouse/server/mail"
	"github.com/gatehouse/gatehouse/server/mail/mailtest"
	"github.com/gatehouse/gatehouse/server/manage"
	"github.com/gatehouse/gatehouse/server/recovery"
	"github.com/gatehouse/gatehouse/server/secret"
	"github.com/gatehouse/gatehouse/storage"
	"github.com/gatehouse/gatehouse/storage/sqlstore"
	"github.com/gatehouse/gatehouse/storage/storagetest"
	"github.com/gatehouse/gatehouse/web"
)

// fixture is a recovery service on a real database, mailing a real SMTP
// server, with a clock the test moves.
type fixture struct {
	svc      *recovery.Service
	store    storage.Store
	accounts *manage.Service
	smtp     *mailtest.Server
	outbox   *mail.Outbox
	now      time.Time
}

func backends(t *testing.T, fn func(t *testing.T, f *fixture)) {
	for _, b := range []struct {
		name string
		dsn  func(testing.TB) string
	}{{"sqlite", storagetest.SQLiteDSN}, {"postgres", storagetest.PostgresDSN}} {
		t.Run(b.name, func(t *testing.T) { fn(t, newFixture(t, b.dsn(t))) })
	}
}

func newFixture(t *testing.T, dsn string) *fixture {
	t.Helper()
	ctx := context.Background()
	store, err := sqlstore.Open(ctx, dsn, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if _, err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	keyring, err := secret.NewKeyring([]byte("recovery-test-secret-0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{store: store, smtp: mailtest.Start(t), now: time.Now().UTC()}
	clock := func() time.Time { return f.now }
	passwords := credential.NewPasswords(credential.PasswordParams{Memory: 64, Time: 1, Threads: 1}, 4, 0)
	f.accounts = manage.New(store, passwords, nil, clock)
	cfg, _ := mail.ParseSMTPURL(f.smtp.URL("smtp"))
	cfg.From, _ = mail.ParseFrom("auth@example.com")
	sender, err := mail.NewSMTPSender(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.outbox = mail.NewOutbox(sender, nil, 0)
	templates, err := mail.NewTemplates(web.Mail(), "Gatehouse")
	if err != nil {
		t.Fatal(err)
	}
	f.svc, err = recovery.New(recovery.Config{
		Store: store, Accounts: f.accounts, Passwords: passwords,
		Tokens: keyring.Digester(secret.PurposeMailToken), Outbox: f.outbox, Mails: templates,
		VerifyURL: "https://auth.example.com/verify", ResetURL: "https://auth.example.com/reset",
		ForgotURL: "https://auth.example.com/forgot", Now: clock,
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// token waits for the n-th mail (1-based) and returns the token of its link.
func (f *fixture) token(t *testing.T, n int) string {
	t.Helper()
	m := f.smtp.WaitFor(t, n, 15*time.Second)[n-1]
	match := tokenPattern.FindStringSubmatch(m.Text)
	if match == nil {
		t.Fatalf("no link in mail %d:\n%s", n, m.Text)
	}
	return match[1]
}

func (f *fixture) user(t *testing.T, name string, verified bool) *storage.User {
	t.Helper()
	reg, err := f.accounts.Register(context.Background(), manage.UserSpec{Username: name, Email: name + "@example.com", Password: "pw-" + name + "-Xk29qLm"})
	if err != nil {
		t.Fatal(err)
	}
	if verified {
		if err := f.store.UpdateUser(context.Background(), reg.User.ID, func(u *storage.User) error { u.EmailVerified = true; return nil }); err != nil {
			t.Fatal(err)
		}
	}
	return reg.User
}

func TestResetLinkWorksOnceUnderConcurrency(t *testing.T) {
	backends(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		f.user(t, "ann", true)
		if err := f.svc.Forgot(ctx, "ann@example.com"); err != nil {
			t.Fatal(err)
		}
		token := f.token(t, 1)

		const n = 6
		var ready, done sync.WaitGroup
		ready.Add(n)
		start := make(chan struct{})
		errs := make([]error, n)
		for i := range n {
			done.Go(func() {
				ready.Done()
				<-start
				_, errs[i] = f.svc.Reset(ctx, token, "a new password for ann")
			})
		}
		ready.Wait()
		close(start)
		done.Wait()
		winners := 0
		for i, err := range errs {
			switch {
			case err == nil:
				winners++
			case !errors.Is(err, recovery.ErrInvalidLink):
				t.Errorf("request %d: %v", i, err)
			}
		}
		if winners != 1 {
			t.Fatalf("%d of %d concurrent resets succeeded, want exactly 1", winners, n)
		}
	})
}

func TestLinkLifetimes(t *testing.T) {
	backends(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		start := f.now
		f.user(t, "bob", false) // no mail yet: Register on manage sends none
		if err := f.svc.ResendVerification(ctx, "bob@example.com"); err != nil {
			t.Fatal(err)
		}
		verify := f.token(t, 1)
		if err := f.svc.Forgot(ctx, "bob@example.com"); err != nil {
			t.Fatal(err)
		}
		reset := f.token(t, 2)

		tests := []struct {
			after   time.Duration
			purpose string
			token   string
			valid   bool
		}{
			{29 * time.Minute, storage.MailResetPassword, reset, true},
			{31 * time.Minute, storage.MailResetPassword, reset, false},
			{23 * time.Hour, storage.MailVerifyEmail, verify, true},
			{25 * time.Hour, storage.MailVerifyEmail, verify, false},
			{0, storage.MailVerifyEmail, reset, false}, // a link of another purpose
			{0, storage.MailResetPassword, "not-a-token", false},
			{0, storage.MailResetPassword, "", false},
		}
		for _, tc := range tests {
			f.now = start.Add(tc.after)
			_, err := f.svc.CheckLink(ctx, tc.purpose, tc.token)
			if (err == nil) != tc.valid || (err != nil && !errors.Is(err, recovery.ErrInvalidLink)) {
				t.Errorf("%s link after %s: %v, want valid=%v", tc.purpose, tc.after, err, tc.valid)
			}
		}
	})
}

// Whoever verifies an address first gets it; the other link stays unused
// and says why.
func TestVerifyWhenAnotherAccountGotTheAddress(t *testing.T) {
	backends(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		for i, name := range []string{"cat", "cat2"} {
			if err := f.svc.Register(ctx, manage.UserSpec{Username: name, Email: "cat@example.com", Password: "pw-cat-Xk29qLm"}); err != nil {
				t.Fatal(err)
			}
			f.token(t, i+1)
		}
		first, second := f.token(t, 1), f.token(t, 2)
		if _, err := f.svc.Verify(ctx, second); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Verify(ctx, first); !errors.Is(err, recovery.ErrEmailTaken) {
			t.Fatalf("verifying a taken address: %v, want ErrEmailTaken", err)
		}
		if _, err := f.svc.CheckLink(ctx, storage.MailVerifyEmail, first); err != nil {
			t.Fatalf("the refused link was used up: %v", err)
		}
	})
}

var tokenPattern = regexp.MustCompile(`\?token=([A-Za-z0-9_-]+)`)
