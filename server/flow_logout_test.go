package server_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"
	fositejwt "github.com/ory/fosite/token/jwt"

	"github.com/gatehouse/gatehouse/server"
	"github.com/gatehouse/gatehouse/server/logout"
	"github.com/gatehouse/gatehouse/server/manage"
	"github.com/gatehouse/gatehouse/server/outbound"
)

// logoutReceiver is a client's back-channel logout endpoint.
type logoutReceiver struct {
	*httptest.Server
	mu       sync.Mutex
	tokens   []string
	consumed int
	got      chan struct{}
}

func newLogoutReceiver(t *testing.T) *logoutReceiver {
	lr := &logoutReceiver{got: make(chan struct{}, 16)}
	lr.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || r.PostForm.Get("logout_token") == "" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		lr.mu.Lock()
		lr.tokens = append(lr.tokens, r.PostForm.Get("logout_token"))
		lr.mu.Unlock()
		remember(r.PostForm.Get("logout_token"))
		lr.got <- struct{}{}
	}))
	t.Cleanup(lr.Close)
	return lr
}

// wait returns the received logout tokens one by one, failing after 10 s.
func (lr *logoutReceiver) wait(t *testing.T) string {
	t.Helper()
	select {
	case <-lr.got:
	case <-time.After(10 * time.Second):
		t.Fatal("no back-channel logout token received")
	}
	lr.mu.Lock()
	defer lr.mu.Unlock()
	lr.consumed++
	return lr.tokens[lr.consumed-1]
}

type logoutClaims struct {
	josejwt.Claims
	SID    string         `json:"sid"`
	Nonce  string         `json:"nonce"`
	Events map[string]any `json:"events"`
}

// verifyLogoutToken checks a logout token as a client must (Back-Channel Logout 1.0 §2.6).
func (e *env) verifyLogoutToken(t *testing.T, raw, clientID string) logoutClaims {
	t.Helper()
	parsed, err := josejwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	if typ := parsed.Headers[0].ExtraHeaders["typ"]; typ != "logout+jwt" {
		t.Errorf("typ = %v", typ)
	}
	set := e.jwks()
	keys := set.Key(parsed.Headers[0].KeyID)
	if len(keys) != 1 {
		t.Fatal("logout token signed with an unpublished key")
	}
	var c logoutClaims
	if err := parsed.Claims(keys[0].Key, &c); err != nil {
		t.Fatal(err)
	}
	if err := c.Claims.ValidateWithLeeway(josejwt.Expected{Issuer: e.issuer, AnyAudience: josejwt.Audience{clientID}, Time: time.Now()}, time.Minute); err != nil {
		t.Errorf("claims: %v", err)
	}
	if c.ID == "" || c.IssuedAt == nil || c.Subject == "" || c.SID == "" || c.Nonce != "" {
		t.Errorf("logout token claims = %+v", c)
	}
	if _, ok := c.Events[logout.EventBackchannelLogout]; !ok {
		t.Errorf("events = %v", c.Events)
	}
	return c
}

func sidOf(t *testing.T, tok *tokens) string {
	t.Helper()
	var c struct {
		SID string `json:"sid"`
	}
	_ = tok.idToken.Claims(&c)
	return c.SID
}

func TestRPInitiatedLogout(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		_, pw := e.user("lola")
		receiver := newLogoutReceiver(t)
		c, s := e.client(manage.ClientSpec{SkipConsent: true, PostLogoutRedirectURIs: []string{"http://127.0.0.1:9999/bye"}, BackchannelLogoutURI: receiver.URL + "/logout"})
		other, _ := e.client(manage.ClientSpec{SkipConsent: true, PostLogoutRedirectURIs: []string{"http://127.0.0.1:9999/other-bye"}})
		r := e.rp(c, s)
		b := newBrowser(t)
		tok := r.fullLogin(b, person{"lola", pw, ""})

		// A client_id that does not match the hint's aud: error page, no sign-out.
		q := url.Values{"id_token_hint": {tok.raw}, "client_id": {other.ID}}
		v := e.follow(b, e.issuer+"/logout?"+q.Encode(), person{})
		if v.callback != nil || v.status != http.StatusBadRequest {
			t.Fatalf("mismatched client_id: %v %d", v.callback, v.status)
		}

		// With a valid hint: no confirmation, back to the registered URI with state.
		q = url.Values{"id_token_hint": {tok.raw}, "post_logout_redirect_uri": {"http://127.0.0.1:9999/bye"}, "state": {"st-12345678"}}
		v = e.follow(b, e.issuer+"/logout?"+q.Encode(), person{})
		if v.callback == nil || v.callback.Path != "/bye" || v.callback.Query().Get("state") != "st-12345678" {
			t.Fatalf("logout with hint: callback %v page %q", v.callback, v.page)
		}
		// The client shared the session: it gets a logout token for it.
		claims := e.verifyLogoutToken(t, receiver.wait(t), c.ID)
		if claims.SID != sidOf(t, tok) || claims.Subject != tok.idToken.Subject {
			t.Errorf("logout token sid/sub = %s/%s, want %s/%s", claims.SID, claims.Subject, sidOf(t, tok), tok.idToken.Subject)
		}
		// The session is over: the next authorization asks for the password.
		_, v = r.login(b, r.authURL(), person{"lola", pw, ""})
		if !v.sawLogin {
			t.Error("still signed in after logout")
		}

		// Without a hint: a confirmation form; a foreign redirect URI is not followed.
		q = url.Values{"client_id": {c.ID}, "post_logout_redirect_uri": {"https://evil.example/"}}
		resp, err := b.Get(e.issuer + "/logout?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		forms, doc, _ := parseForms(resp.Body)
		resp.Body.Close()
		if len(forms) != 1 || len(forms[0].buttons) == 0 || forms[0].buttons[0]["type"] != "submit" {
			t.Fatalf("no confirmation form: %s", textOf(doc))
		}
		vals := url.Values{}
		for k, val := range forms[0].fields {
			vals.Set(k, val)
		}
		req, _ := http.NewRequest(http.MethodPost, e.issuer+"/logout", strings.NewReader(vals.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", e.issuer)
		resp, err = b.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Location") != "" {
			t.Errorf("confirmed logout with a foreign redirect URI: %d %q", resp.StatusCode, resp.Header.Get("Location"))
		}

		// An expired but validly signed hint is accepted.
		_, v = r.login(b, r.authURL(), person{"lola", pw, ""})
		expired, _, err := e.keys.Signer().Generate(context.Background(), fositejwt.MapClaims{
			"iss": e.issuer, "sub": tok.idToken.Subject, "aud": []string{c.ID},
			"iat": time.Now().Add(-2 * time.Hour).Unix(), "exp": time.Now().Add(-time.Hour).Unix(),
		}, &fositejwt.Headers{})
		if err != nil {
			t.Fatal(err)
		}
		q = url.Values{"id_token_hint": {expired}, "post_logout_redirect_uri": {"http://127.0.0.1:9999/bye"}}
		v = e.follow(b, e.issuer+"/logout?"+q.Encode(), person{})
		if v.callback == nil || v.callback.Path != "/bye" {
			t.Fatalf("expired hint: %v %q", v.callback, v.page)
		}
		receiver.wait(t)
	})
}

func TestSignOutEverywhere(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		_, pw := e.user("mira")
		receiver := newLogoutReceiver(t)
		c, s := e.client(manage.ClientSpec{SkipConsent: true, BackchannelLogoutURI: receiver.URL + "/logout"})
		r := e.rp(c, s)
		laptop, phone := newBrowser(t), newBrowser(t)
		t1 := r.fullLogin(laptop, person{"mira", pw, ""})
		t2 := r.fullLogin(phone, person{"mira", pw, ""})

		notifier := logout.New(logout.Config{Issuer: e.issuer, Clients: e.store, Sessions: e.store, Signer: e.keys.Signer(), HTTP: outbound.NewClient(true), Logger: testLogger()})
		svc := manage.New(e.store, testPasswords(), nil, nil, manage.WithLogout(notifier))
		if _, err := svc.SignOutUser(context.Background(), "mira"); err != nil {
			t.Fatal(err)
		}
		notifier.Wait()
		sids := map[string]bool{}
		for range 2 {
			sids[e.verifyLogoutToken(t, receiver.wait(t), c.ID).SID] = true
		}
		if !sids[sidOf(t, t1)] || !sids[sidOf(t, t2)] {
			t.Errorf("logout tokens for sessions %v, want %s and %s", sids, sidOf(t, t1), sidOf(t, t2))
		}
		for _, tok := range []*tokens{t1, t2} {
			if status, _ := r.refresh(tok.RefreshToken); status == http.StatusOK {
				t.Error("refresh works after sign-out everywhere")
			}
			if e.introspect(tok.AccessToken, c.ID, s)["active"] != false {
				t.Error("access token active after sign-out everywhere")
			}
		}
		for _, b := range []*browser{laptop, phone} {
			if _, v := r.login(b, r.authURL(), person{"mira", pw, ""}); !v.sawLogin {
				t.Error("a browser is still signed in")
			}
		}
	})
}

func TestBackchannelToPrivateAddressRefused(t *testing.T) {
	e := newEnv(t, backends[0].dsn(t), func(c *server.Config) { c.AllowPrivateOutbound = false })
	_, pw := e.user("nora")
	receiver := newLogoutReceiver(t)
	c, s := e.client(manage.ClientSpec{SkipConsent: true, BackchannelLogoutURI: receiver.URL + "/logout"})
	b := newBrowser(t)
	tok := e.rp(c, s).fullLogin(b, person{"nora", pw, ""})
	q := url.Values{"id_token_hint": {tok.raw}}
	e.follow(b, e.issuer+"/logout?"+q.Encode(), person{})
	// The failure names this client; other tests' lines do not count.
	deadline := time.Now().Add(15 * time.Second)
	for !hasLogLine("back-channel logout failed", c.ID) {
		if time.Now().After(deadline) {
			t.Fatal("no failed delivery logged")
		}
		time.Sleep(50 * time.Millisecond)
	}
	select {
	case <-receiver.got:
		t.Fatal("a logout token reached a loopback address without --allow-private-backchannel")
	default:
	}
}

// hasLogLine reports whether one captured log line contains every part.
func hasLogLine(parts ...string) bool {
	for _, line := range strings.Split(logSink.String(), "\n") {
		if containsAll(line, parts...) {
			return true
		}
	}
	return false
}
