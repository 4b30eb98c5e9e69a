package server_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/server"
	"github.com/gatehouse/gatehouse/server/credential"
	"github.com/gatehouse/gatehouse/server/keys"
	"github.com/gatehouse/gatehouse/server/leakcheck"
	"github.com/gatehouse/gatehouse/server/manage"
	"github.com/gatehouse/gatehouse/server/secret"
	"github.com/gatehouse/gatehouse/storage"
	"github.com/gatehouse/gatehouse/storage/sqlstore"
	"github.com/gatehouse/gatehouse/storage/sqlstore/sqlstoretest"
	"github.com/gatehouse/gatehouse/storage/storagetest"
)

// logSink captures every log line of the end-to-end suite and remembers
// every secret, password, code and token the suite saw. TestMain fails the
// run if any of them was logged.
var logSink leakcheck.Capture

// remember records a value that must never appear in a log.
func remember(values ...string) { logSink.Remember(values...) }

func TestMain(m *testing.M) {
	code := m.Run()
	for _, leak := range logSink.Leaks() {
		fmt.Fprintln(os.Stderr, "FAIL:", leak)
		code = max(code, 1)
	}
	// Only a run that started a server must have logged (go test -run X or
	// -bench Y may match nothing here).
	if code == 0 && envsStarted.Load() > 0 && len(logSink.String()) == 0 {
		fmt.Fprintln(os.Stderr, "FAIL: the log capture saw no log line at all")
		code = 1
	}
	os.Exit(code)
}

// envsStarted counts the servers newEnv started.
var envsStarted atomic.Int64

// env is one running Gatehouse: real storage, real router, real HTTP.
type env struct {
	t       testing.TB
	srv     *httptest.Server
	issuer  string
	store   storage.Store
	keys    *keys.Manager
	manage  *manage.Service
	keyring *secret.Keyring
	dsn     string
	// active is the instance the test server routes to: several instances
	// share the database as they would behind a load balancer.
	active atomic.Pointer[http.Handler]
	opts   []func(*server.Config)
}

type backend struct {
	name string
	dsn  func(t testing.TB) string
}

var backends = []backend{
	{"sqlite", storagetest.SQLiteDSN},
	{"postgres", storagetest.PostgresDSN},
}

// forEachBackend runs f against SQLite and PostgreSQL; opts adjust the
// server's configuration.
func forEachBackend(t *testing.T, f func(t *testing.T, e *env), opts ...func(*server.Config)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			f(t, newEnv(t, b.dsn(t), opts...))
		})
	}
}

var testSecret = func() []byte {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return b
}()

// testPasswords are cheap argon2id parameters: the suite tests flows, not hashing cost.
func testPasswords() *credential.Passwords {
	return credential.NewPasswords(credential.PasswordParams{Memory: 1024, Time: 1, Threads: 1}, 4, 2*time.Second)
}

// newEnv starts Gatehouse on dsn; opts adjust its configuration.
func newEnv(t testing.TB, dsn string, opts ...func(*server.Config)) *env {
	t.Helper()
	envsStarted.Add(1)
	e := &env{t: t, dsn: dsn, opts: opts}
	e.srv = httptest.NewUnstartedServer(nil)
	e.issuer = "http://" + e.srv.Listener.Addr().String()
	e.store = openStore(t, dsn)
	keyring, err := secret.NewKeyring(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	e.keyring = keyring
	e.keys = newKeys(t, e.store, keyring)
	passwords := testPasswords()
	e.manage = manage.New(e.store, passwords, credential.NewSecretHasher(keyring.Digester(secret.PurposeClientSecret)), time.Now)
	e.use(e.newServer(e.keys, passwords))
	e.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		(*e.active.Load()).ServeHTTP(w, r)
	})
	e.srv.Start()
	t.Cleanup(e.srv.Close)
	return e
}

// use routes every later request to s.
func (e *env) use(s *server.Server) {
	h := s.Handler()
	e.active.Store(&h)
}

// secondInstance starts another Gatehouse on the same database with its own
// key manager following the database every pollInterval.
func (e *env) secondInstance(pollInterval time.Duration) (*server.Server, *keys.Manager) {
	e.t.Helper()
	store := openStore(e.t, e.dsn)
	km := keys.NewManager(keys.Config{Store: store, Sealer: e.keyring.AEAD(secret.PurposeAtRest), Logger: testLogger(), PollInterval: pollInterval})
	if err := km.Reload(context.Background()); err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	e.t.Cleanup(cancel)
	go km.Run(ctx)
	saved := e.store
	e.store = store
	defer func() { e.store = saved }()
	return e.newServer(km, testPasswords()), km
}

func openStore(t testing.TB, dsn string) storage.Store {
	t.Helper()
	return sqlstoretest.Open(t, dsn, sqlstore.Options{Logger: testLogger()})
}

func newKeys(t testing.TB, store storage.Store, keyring *secret.Keyring) *keys.Manager {
	t.Helper()
	m := keys.NewManager(keys.Config{Store: store, Sealer: keyring.AEAD(secret.PurposeAtRest), Logger: testLogger()})
	if err := m.EnsureKeys(context.Background()); err != nil {
		t.Fatal(err)
	}
	return m
}

func testLogger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(&logSink, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func (e *env) newServer(km *keys.Manager, passwords *credential.Passwords) *server.Server {
	e.t.Helper()
	cfg := server.Config{
		Issuer:               e.issuer,
		Store:                e.store,
		Keyring:              e.keyring,
		Keys:                 km,
		Passwords:            passwords,
		Logger:               testLogger(),
		AllowPrivateOutbound: true,
	}
	for _, opt := range e.opts {
		opt(&cfg)
	}
	s, err := server.New(cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

// user creates a user and returns its id and password.
func (e *env) user(name string) (id, password string) {
	e.t.Helper()
	password = "pw-" + randomString(12)
	u, err := e.manage.CreateUser(context.Background(), manage.UserSpec{Username: name, Email: name + "@example.com", DisplayName: strings.ToUpper(name[:1]) + name[1:], Password: password})
	if err != nil {
		e.t.Fatal(err)
	}
	remember(password)
	return u.ID, password
}

// client registers a client; spec defaults to a confidential code client.
func (e *env) client(spec manage.ClientSpec) (*storage.Client, string) {
	e.t.Helper()
	if spec.Name == "" {
		spec.Name = "Test app"
	}
	if spec.RedirectURIs == nil && !isClientCredentialsOnly(spec) {
		spec.RedirectURIs = []string{"http://127.0.0.1:9999/callback"}
	}
	c, sec, err := e.manage.CreateClient(context.Background(), spec)
	if err != nil {
		e.t.Fatal(err)
	}
	remember(sec)
	return c, sec
}

func isClientCredentialsOnly(spec manage.ClientSpec) bool {
	return len(spec.GrantTypes) == 1 && spec.GrantTypes[0] == "client_credentials"
}

// browser is a person's browser: a cookie jar that does not follow redirects.
type browser struct {
	*http.Client
}

func newBrowser(t testing.TB) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{&http.Client{
		Jar:           jar,
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)[:n]
}

// role creates a role.
func (e *env) role(spec manage.RoleSpec) {
	e.t.Helper()
	if _, err := e.manage.CreateRole(context.Background(), spec); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) grantUser(user, role string) {
	e.t.Helper()
	if _, err := e.manage.GrantUserRole(context.Background(), user, role); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) grantClient(clientID, role string) {
	e.t.Helper()
	if err := e.manage.GrantClientRole(context.Background(), clientID, role); err != nil {
		e.t.Fatal(err)
	}
}
