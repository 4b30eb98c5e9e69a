package e2e

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/examples/rp/relyingparty"
	"github.com/gatehouse/gatehouse/server"
	"github.com/gatehouse/gatehouse/server/credential"
	"github.com/gatehouse/gatehouse/server/keys"
	"github.com/gatehouse/gatehouse/server/manage"
	"github.com/gatehouse/gatehouse/server/secret"
	"github.com/gatehouse/gatehouse/storage/sqlstore"
	"github.com/gatehouse/gatehouse/storage/storagetest"
)

// backends are the databases every browser test runs on.
var backends = []struct {
	name string
	dsn  func(t testing.TB) string
}{
	{"sqlite", storagetest.SQLiteDSN},
	{"postgres", storagetest.PostgresDSN},
}

// stack is one Gatehouse with the two example clients registered and
// running. Gatehouse is at http://127.0.0.1:port and the apps at
// http://localhost:port, so the apps are other sites than Gatehouse (as in
// production): cookies, SameSite and CORS behave as they would there.
type stack struct {
	issuer string
	manage *manage.Service
	// ghRequests and rpRequests record the requests each server answered.
	ghRequests, rpRequests *recorder
	rpURL, spaURL          string
	rpClient, spaClient    string
	// otherClient is registered with an https redirect URI only.
	otherClient string
}

// newStack starts Gatehouse on dsn, the example app and the SPA.
func newStack(t *testing.T, dsn string) *stack {
	t.Helper()
	ctx := context.Background()
	logger := slog.New(slog.NewJSONHandler(&logSink, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s := &stack{ghRequests: &recorder{}, rpRequests: &recorder{}}

	store, err := sqlstore.Open(ctx, dsn, sqlstore.Options{Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	if _, err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	systemSecret := make([]byte, 32)
	_, _ = rand.Read(systemSecret)
	keyring, err := secret.NewKeyring(systemSecret)
	if err != nil {
		t.Fatal(err)
	}
	km := keys.NewManager(keys.Config{Store: store, Sealer: keyring.AEAD(secret.PurposeAtRest), Logger: logger})
	if err := km.EnsureKeys(ctx); err != nil {
		t.Fatal(err)
	}
	// Cheap argon2id parameters: these tests drive pages, not hashing cost.
	passwords := credential.NewPasswords(credential.PasswordParams{Memory: 1024, Time: 1, Threads: 1}, 4, 2*time.Second)
	s.manage = manage.New(store, passwords, credential.NewSecretHasher(keyring.Digester(secret.PurposeClientSecret)), time.Now)

	gh := httptest.NewUnstartedServer(nil)
	s.issuer = "http://" + gh.Listener.Addr().String()
	srv, err := server.New(server.Config{
		Issuer: s.issuer, Store: store, Keyring: keyring, Keys: km, Passwords: passwords,
		Logger: logger, AllowPrivateOutbound: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	gh.Config.Handler = s.ghRequests.wrap(srv.Handler())
	gh.Start()
	t.Cleanup(gh.Close)

	rp := httptest.NewUnstartedServer(nil)
	s.rpURL = localhostURL(rp.Listener)
	spa := httptest.NewUnstartedServer(nil)
	s.spaURL = localhostURL(spa.Listener)

	rpClient, rpSecret, err := s.manage.CreateClient(ctx, manage.ClientSpec{
		Name:                   "Example app",
		RedirectURIs:           []string{s.rpURL + "/callback"},
		PostLogoutRedirectURIs: []string{s.rpURL + "/signed-out"},
		BackchannelLogoutURI:   s.rpURL + relyingparty.BackchannelLogoutPath,
	})
	if err != nil {
		t.Fatal(err)
	}
	remember(rpSecret)
	spaClient, _, err := s.manage.CreateClient(ctx, manage.ClientSpec{
		Name:                   "Example SPA",
		Public:                 true,
		RedirectURIs:           []string{s.spaURL + "/callback"},
		PostLogoutRedirectURIs: []string{s.spaURL + "/signed-out"},
	})
	if err != nil {
		t.Fatal(err)
	}
	other, _, err := s.manage.CreateClient(ctx, manage.ClientSpec{Name: "Other app", RedirectURIs: []string{"https://other.example/callback"}})
	if err != nil {
		t.Fatal(err)
	}
	s.rpClient, s.spaClient, s.otherClient = rpClient.ID, spaClient.ID, other.ID

	app, err := relyingparty.New(ctx, relyingparty.Config{
		Issuer: s.issuer, ClientID: rpClient.ID, ClientSecret: rpSecret,
		RedirectURL: s.rpURL + "/callback", Logger: logger,
	})
	if err != nil {
		t.Fatal(err)
	}
	rp.Config.Handler = s.rpRequests.wrap(app.Handler())
	rp.Start()
	t.Cleanup(rp.Close)

	startSPA(t, spa, s.issuer, spaClient.ID)
	return s
}

// localhostURL names a loopback listener by the host name localhost.
func localhostURL(l net.Listener) string {
	return fmt.Sprintf("http://localhost:%d", l.Addr().(*net.TCPAddr).Port)
}

// user creates a user and returns its password.
func (s *stack) user(t *testing.T, name string, requireMFA bool) string {
	t.Helper()
	ctx := context.Background()
	password := "pw-" + rand.Text()
	remember(password)
	_, err := s.manage.CreateUser(ctx, manage.UserSpec{
		Username: name, Email: name + "@example.com",
		DisplayName: strings.ToUpper(name[:1]) + name[1:] + " Example", Password: password,
	})
	if err != nil {
		t.Fatal(err)
	}
	if requireMFA {
		if _, err := s.manage.SetRequireMFA(ctx, name, true); err != nil {
			t.Fatal(err)
		}
	}
	return password
}

// request is one request a server answered.
type request struct {
	method, path string
	status       int
}

// recorder remembers the requests a handler answered, so tests can tell
// which pages a flow went through and what a server-to-server call got.
type recorder struct {
	mu   sync.Mutex
	reqs []request
}

func (rec *recorder) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(sw, r)
		rec.mu.Lock()
		defer rec.mu.Unlock()
		rec.reqs = append(rec.reqs, request{r.Method, r.URL.Path, sw.status})
	})
}

// mark returns a position; since returns the requests answered after it.
func (rec *recorder) mark() int {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return len(rec.reqs)
}

func (rec *recorder) since(mark int) []request {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]request(nil), rec.reqs[mark:]...)
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}
