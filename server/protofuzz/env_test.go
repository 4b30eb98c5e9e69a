package protofuzz

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/server"
	"github.com/gatehouse/gatehouse/server/credential"
	"github.com/gatehouse/gatehouse/server/keys"
	"github.com/gatehouse/gatehouse/server/manage"
	"github.com/gatehouse/gatehouse/server/secret"
	"github.com/gatehouse/gatehouse/storage/sqlstore"
	"github.com/gatehouse/gatehouse/storage/sqlstore/sqlstoretest"
)

const issuer = "http://127.0.0.1:9000"

// redirectURI is registered for the code clients; fuzz inputs name it as
// REDIRECT_URI.
const redirectURI = "http://127.0.0.1:9999/callback"

// target is a Gatehouse router on a fresh SQLite database with a
// confidential code client, a public client, a client_credentials client
// and an access token of the latter. Fuzz inputs refer to them by
// placeholders (see expand), so seed files need no live credentials.
type target struct {
	handler      http.Handler
	log          *syncBuffer
	replacements *strings.Replacer
	requests     int
}

func newTarget(f *testing.F) *target {
	f.Helper()
	ctx := context.Background()
	log := &syncBuffer{}
	logger := slog.New(slog.NewJSONHandler(log, nil))
	store := sqlstoretest.SQLite(f, sqlstore.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	keyring, err := secret.NewKeyring([]byte("protofuzz-secret-0123456789abcdefghij"))
	if err != nil {
		f.Fatal(err)
	}
	km := keys.NewManager(keys.Config{Store: store, Sealer: keyring.AEAD(secret.PurposeAtRest), Logger: logger})
	if err := km.EnsureKeys(ctx); err != nil {
		f.Fatal(err)
	}
	passwords := credential.NewPasswords(credential.PasswordParams{Memory: 1024, Time: 1, Threads: 1}, 2, 2*time.Second)
	mg := manage.New(store, passwords, credential.NewSecretHasher(keyring.Digester(secret.PurposeClientSecret)), time.Now)
	code, codeSecret, err := mg.CreateClient(ctx, manage.ClientSpec{Name: "Code", RedirectURIs: []string{redirectURI}})
	if err != nil {
		f.Fatal(err)
	}
	public, _, err := mg.CreateClient(ctx, manage.ClientSpec{Name: "SPA", Public: true, RedirectURIs: []string{redirectURI}})
	if err != nil {
		f.Fatal(err)
	}
	service, serviceSecret, err := mg.CreateClient(ctx, manage.ClientSpec{Name: "Service", GrantTypes: []string{"client_credentials"}})
	if err != nil {
		f.Fatal(err)
	}
	srv, err := server.New(server.Config{
		Issuer: issuer, Store: store, Keyring: keyring, Keys: km, Passwords: passwords, Logger: logger,
		AllowPrivateOutbound: true,
	})
	if err != nil {
		f.Fatal(err)
	}
	tg := &target{handler: srv.Handler(), log: log}

	basic := func(id, secret string) string {
		return base64.StdEncoding.EncodeToString([]byte(id + ":" + secret))
	}
	// An access token the introspection and revocation inputs can name.
	rec := tg.serve(f, http.MethodPost, "/oauth2/token", "", "grant_type=client_credentials", "Basic "+basic(service.ID, serviceSecret))
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &tok); rec.Code != http.StatusOK || err != nil || tok.AccessToken == "" {
		f.Fatalf("client_credentials token: %d %s", rec.Code, rec.Body)
	}
	token := tok.AccessToken
	tg.replacements = strings.NewReplacer(
		"CODE_BASIC", basic(code.ID, codeSecret),
		"SERVICE_BASIC", basic(service.ID, serviceSecret),
		"CODE_ID", code.ID, "CODE_SECRET", codeSecret,
		"PUBLIC_ID", public.ID,
		"SERVICE_ID", service.ID, "SERVICE_SECRET", serviceSecret,
		"ACCESS_TOKEN", token,
		"REDIRECT_URI", redirectURI,
	)
	return tg
}

// serve sends one request through the router. Each request comes from its
// own source address, so the client-authentication rate limit (429) does not
// shadow the code behind it.
func (tg *target) serve(tb testing.TB, method, path, query, body, authorization string) *httptest.ResponseRecorder {
	tb.Helper()
	tg.requests++
	target := path
	if query != "" {
		target += "?" + query
	}
	r, err := http.NewRequest(method, issuer+target, strings.NewReader(body))
	if err != nil {
		return nil // not a request a client can send
	}
	r.RemoteAddr = fmt.Sprintf("10.%d.%d.%d:40000", tg.requests>>16&255, tg.requests>>8&255, tg.requests&255)
	if method == http.MethodPost {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if authorization != "" {
		r.Header.Set("Authorization", authorization)
	}
	rec := httptest.NewRecorder()
	tg.handler.ServeHTTP(rec, r)
	return rec
}

// check sends a fuzz input with its placeholders expanded and fails tb on
// a 5xx answer (a panic is recovered into a 500 by the router).
func (tg *target) check(tb testing.TB, method, path, query, body, authorization string) {
	tb.Helper()
	tg.log.Reset()
	rec := tg.serve(tb, method, path, tg.replacements.Replace(query), tg.replacements.Replace(body), tg.replacements.Replace(authorization))
	if rec != nil && rec.Code >= 500 {
		tb.Fatalf("%s %s answered %d\nquery: %q\nbody: %q\nauthorization: %q\nresponse: %s\nlog:\n%s",
			method, path, rec.Code, query, body, authorization, rec.Body, tg.log)
	}
}

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) Reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Reset()
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
