package server_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/server/manage"
	"github.com/gatehouse/gatehouse/server/ui"
	"github.com/gatehouse/gatehouse/storage"
	"github.com/gatehouse/gatehouse/storage/storagetest"
)

// forEachMFABackend runs f against SQLite and PostgreSQL, with a server
// whose clock the test moves.
func forEachMFABackend(t *testing.T, f func(t *testing.T, e *env, clock *testClock)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			clock := newTestClock()
			f(t, newEnv(t, b.dsn(t), withClock(clock)), clock)
		})
	}
}

// authClaims are the ID token claims about how the user signed in.
type authClaims struct {
	AMR      []string `json:"amr"`
	ACR      string   `json:"acr"`
	AuthTime int64    `json:"auth_time"`
	SID      string   `json:"sid"`
}

func claimsOf(t *testing.T, tok *tokens) authClaims {
	t.Helper()
	var c authClaims
	if err := tok.idToken.Claims(&c); err != nil {
		t.Fatal(err)
	}
	return c
}

func wantMFA(t *testing.T, tok *tokens, amr ...string) authClaims {
	t.Helper()
	c := claimsOf(t, tok)
	if !slices.Equal(c.AMR, amr) || c.ACR != "urn:gatehouse:acr:mfa" {
		t.Fatalf("amr %v, acr %q; want amr %v and acr urn:gatehouse:acr:mfa", c.AMR, c.ACR, amr)
	}
	return c
}

func TestEnrollAuthenticatorFromAccount(t *testing.T) {
	forEachMFABackend(t, func(t *testing.T, e *env, clock *testClock) {
		id, pw := e.user("amy")
		b := newBrowser(t)
		if p := e.get(b, ui.AccountPath); p.status != http.StatusSeeOther || p.location() != ui.AccountSignInPath {
			t.Fatalf("account page without a session: %d to %q", p.status, p.location())
		}
		if p := e.accountSignIn(b, "amy", pw); p.status != http.StatusSeeOther || p.location() != ui.AccountPath {
			t.Fatalf("account sign-in: %d to %q", p.status, p.location())
		}
		home := e.get(b, ui.AccountPath)
		if home.status != http.StatusOK || textOf(byID(home.doc, "mfa-status")) != "Off" || home.header.Get("Cache-Control") != "no-store" {
			t.Fatalf("account page: %d %q (%s)", home.status, home.text, home.header.Get("Cache-Control"))
		}

		p := e.get(b, ui.AccountTOTPPath)
		ep, ok := readEnrollment(t, p.forms, p.doc)
		if !ok || p.header.Get("Cache-Control") != "no-store" {
			t.Fatalf("enrollment page: %d %s", p.status, p.text)
		}
		u, _ := url.Parse(ep.uri)
		if u.Path != "/Gatehouse:amy" || u.Query().Get("issuer") != "Gatehouse" || u.Query().Get("digits") != "6" ||
			u.Query().Get("period") != "30" || u.Query().Get("algorithm") != "SHA1" {
			t.Fatalf("otpauth URI %q", ep.uri)
		}
		if again, _ := readEnrollment(t, e.get(b, ui.AccountTOTPPath).forms, e.get(b, ui.AccountTOTPPath).doc); again.uri != ep.uri {
			t.Fatal("reloading the enrollment page changed the secret")
		}
		ph := &phone{t: t, secret: ep.secret, clock: clock}

		// A wrong code: the same enrollment is shown again, nothing is active.
		bad := e.post(b, ui.AccountTOTPPath, url.Values{"code": {ph.code(4)}})
		if again, ok := readEnrollment(t, bad.forms, bad.doc); bad.status != http.StatusUnprocessableEntity || !ok || again.uri != ep.uri || !strings.Contains(bad.text, "not right") {
			t.Fatalf("wrong confirmation code: %d %s", bad.status, bad.text)
		}
		if _, err := e.store.FindTOTPCredential(context.Background(), id); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("a wrong confirmation code activated the app: %v", err)
		}

		done := e.post(b, ui.AccountTOTPPath, url.Values{"code": {ph.code(0)}})
		codes, next := recoveryCodesOn(done.doc)
		if done.status != http.StatusOK || len(codes) != 10 || next != ui.AccountPath || done.header.Get("Cache-Control") != "no-store" {
			t.Fatalf("confirmation: %d, %d codes: %s", done.status, len(codes), done.text)
		}
		if len(slices.Compact(slices.Sorted(slices.Values(codes)))) != 10 {
			t.Fatalf("recovery codes repeat: %v", codes)
		}
		home = e.get(b, ui.AccountPath)
		if status := textOf(byID(home.doc, "mfa-status")); home.status != http.StatusOK || !strings.HasPrefix(status, "On") ||
			textOf(byID(home.doc, "recovery-status")) != "10 of 10 left" {
			t.Fatalf("account page after enrollment: %d %q", home.status, home.text)
		}
		// The secret is stored sealed, never in clear.
		cred, err := e.store.FindTOTPCredential(context.Background(), id)
		if err != nil || strings.Contains(string(cred.SecretCiphertext), ep.secret) {
			t.Fatalf("stored credential: %v", err)
		}

		// Signing in through an app now takes a code, and says so in the ID token.
		clock.Advance(30 * time.Second)
		c, s := e.client(manage.ClientSpec{SkipConsent: true})
		r := e.rp(c, s)
		a := r.authURL()
		m := &mfaFlow{e: e, clock: clock, code: func() string { return ph.code(0) }}
		code, v := r.login(newBrowser(t), a, person{"amy", pw, ""}, m.step)
		if !v.sawLogin || m.secondFactor != 1 {
			t.Fatalf("login: password page %v, code page %d times", v.sawLogin, m.secondFactor)
		}
		wantMFA(t, r.mustExchange(code, a), "pwd", "otp", "mfa")
	})
}

func TestSecondFactorCodes(t *testing.T) {
	forEachMFABackend(t, func(t *testing.T, e *env, clock *testClock) {
		_, pw := e.user("ben")
		ph, _ := e.enrollByAccount(newBrowser(t), clock, "ben", pw)
		c, s := e.client(manage.ClientSpec{SkipConsent: true})
		r := e.rp(c, s)
		login := func(code string) (authRequest, visit, *mfaFlow) {
			t.Helper()
			a := r.authURL()
			m := &mfaFlow{e: e, clock: clock, code: func() string { return code }}
			return a, e.follow(newBrowser(t), a.url, person{"ben", pw, ""}, m.step), m
		}
		refused := func(name, code, want string) {
			t.Helper()
			_, v, m := login(code)
			if v.callback != nil || m.secondFactor != 2 || v.status != http.StatusUnauthorized || !strings.Contains(v.page, want) {
				t.Fatalf("%s: callback %v, code page %d times, %d %q", name, v.callback, m.secondFactor, v.status, v.page)
			}
		}
		accepted := func(name, code string) {
			t.Helper()
			a, v, _ := login(code)
			if v.callback == nil || v.callback.Query().Get("code") == "" {
				t.Fatalf("%s: no code for the client; last page %d %q", name, v.status, v.page)
			}
			remember(v.callback.Query().Get("code"))
			wantMFA(t, r.mustExchange(v.callback.Query().Get("code"), a), "pwd", "otp", "mfa")
		}

		refused("wrong code", ph.code(5), "not right")
		now := ph.code(0)
		accepted("current code", now)
		refused("replayed code", now, "already used")

		// One step of clock skew either side; a step is accepted once, and
		// only when it is later than the last accepted one.
		clock.Advance(2 * 30 * time.Second)
		refused("two steps behind", ph.code(-2), "not right")
		refused("two steps ahead", ph.code(2), "not right")
		accepted("one step behind", ph.code(-1))
		accepted("one step ahead", ph.code(1))
		refused("the current step, older than the last accepted", ph.code(0), "already used")
	})
}

func TestRecoveryCodeWorksOnce(t *testing.T) {
	forEachMFABackend(t, func(t *testing.T, e *env, clock *testClock) {
		_, pw := e.user("cleo")
		account := newBrowser(t)
		_, codes := e.enrollByAccount(account, clock, "cleo", pw)
		c, s := e.client(manage.ClientSpec{SkipConsent: true})
		r := e.rp(c, s)

		a := r.authURL()
		typed := strings.ToLower(strings.ReplaceAll(codes[2], "-", " "))
		m := &mfaFlow{e: e, clock: clock, code: func() string { return typed }}
		code, _ := r.login(newBrowser(t), a, person{"cleo", pw, ""}, m.step)
		wantMFA(t, r.mustExchange(code, a), "pwd", "mfa")

		m = &mfaFlow{e: e, clock: clock, code: func() string { return codes[2] }}
		v := e.follow(newBrowser(t), r.authURL().url, person{"cleo", pw, ""}, m.step)
		if v.callback != nil || v.status != http.StatusUnauthorized {
			t.Fatalf("a used recovery code signed in again: %d %q", v.status, v.page)
		}
		if left := textOf(byID(e.get(account, ui.AccountPath).doc, "recovery-status")); left != "9 of 10 left" {
			t.Fatalf("account page says %q, want 9 of 10 left", left)
		}
	})
}

// stopAtSecondFactor signs in with the password and stops on the code page;
// it returns the browser and the page's form.
func (e *env) stopAtSecondFactor(r *rp, clock *testClock, username, password string) (*browser, *form) {
	e.t.Helper()
	b := newBrowser(e.t)
	m := &mfaFlow{e: e, clock: clock}
	e.follow(b, r.authURL().url, person{username, password, ""}, m.step)
	if m.form == nil {
		e.t.Fatal("the code page was not shown after the password")
	}
	return b, m.form
}

func TestSecondFactorLockout(t *testing.T) {
	forEachMFABackend(t, func(t *testing.T, e *env, clock *testClock) {
		_, pw := e.user("dana")
		ph, codes := e.enrollByAccount(newBrowser(t), clock, "dana", pw)
		c, s := e.client(manage.ClientSpec{SkipConsent: true})
		r := e.rp(c, s)
		issuer, _ := url.Parse(e.issuer)
		b, f := e.stopAtSecondFactor(r, clock, "dana", pw)
		submit := func(code string) page { return e.fetch(b, e.formPost(issuer, f, "code", code)) }
		wrong := func(codes ...string) {
			t.Helper()
			for _, code := range codes {
				if p := submit(code); p.status != http.StatusUnauthorized {
					t.Fatalf("wrong code %q: %d %q", code, p.status, p.text)
				}
			}
		}
		locked := func(what, code string, wantWait time.Duration) {
			t.Helper()
			p := submit(code)
			if p.status != http.StatusTooManyRequests || !strings.Contains(p.text, "Too many incorrect codes") ||
				p.header.Get("Retry-After") != strconv.Itoa(int(wantWait.Seconds())) {
				t.Fatalf("%s while locked: %d, Retry-After %q: %q", what, p.status, p.header.Get("Retry-After"), p.text)
			}
		}

		// Wrong codes and wrong recovery codes count alike: five lock.
		wrong(ph.code(5), ph.code(6), ph.code(7), "ZZZZ-ZZZZ-ZZZZ", "2345-6789-ABCD")
		locked("the right code", ph.code(0), time.Minute)
		locked("a recovery code", codes[0], time.Minute)

		// After the first lock, five more failures lock for five minutes.
		clock.Advance(time.Minute)
		wrong(ph.code(5), ph.code(6), ph.code(7), ph.code(8), ph.code(9))
		locked("the right code", ph.code(0), 5*time.Minute)
		clock.Advance(time.Minute)
		locked("the right code a minute later", ph.code(0), 4*time.Minute)

		// Once the lock is over, the right code works (the pending login has
		// expired by then: sign in again).
		clock.Advance(4 * time.Minute)
		if p := submit(ph.code(0)); p.status != http.StatusBadRequest || !strings.Contains(p.text, "expired") {
			t.Fatalf("the pending login outlived its 5 minutes: %d %q", p.status, p.text)
		}
		b, f = e.stopAtSecondFactor(r, clock, "dana", pw)
		if p := submit(ph.code(0)); p.status != http.StatusSeeOther {
			t.Fatalf("the right code after the lock: %d %q", p.status, p.text)
		}
	})
}

func TestPendingSecondFactorExpires(t *testing.T) {
	forEachMFABackend(t, func(t *testing.T, e *env, clock *testClock) {
		_, pw := e.user("fynn")
		ph, _ := e.enrollByAccount(newBrowser(t), clock, "fynn", pw)
		c, s := e.client(manage.ClientSpec{SkipConsent: true})
		r := e.rp(c, s)
		issuer, _ := url.Parse(e.issuer)
		b, f := e.stopAtSecondFactor(r, clock, "fynn", pw)
		clock.Advance(5*time.Minute + time.Second)
		p := e.fetch(b, e.formPost(issuer, f, "code", ph.code(0)))
		if p.status != http.StatusBadRequest || !strings.Contains(p.text, "expired") {
			t.Fatalf("a code 5 minutes after the password: %d %q", p.status, p.text)
		}
		// Nobody is signed in: the next authorization asks for the password.
		v := e.follow(b, r.authURL().url, person{}, (&mfaFlow{e: e, clock: clock}).step)
		if v.callback != nil || !v.sawLogin {
			t.Fatalf("after the expired login: callback %v, login page %v", v.callback, v.sawLogin)
		}
	})
}

// Two requests carrying the same code reach two instances that share the
// database at the same moment: exactly one is accepted.
func TestSameCodeOnTwoServers(t *testing.T) {
	forEachMFABackend(t, func(t *testing.T, e *env, clock *testClock) {
		_, pw := e.user("gwen")
		ph, _ := e.enrollByAccount(newBrowser(t), clock, "gwen", pw)
		c, s := e.client(manage.ClientSpec{SkipConsent: true})
		r := e.rp(c, s)
		second, _ := e.secondInstance(time.Second)
		srv2 := httptest.NewServer(second.Handler())
		t.Cleanup(srv2.Close)
		servers := []*url.URL{mustURL(t, e.issuer), mustURL(t, srv2.URL)}

		for round := range 3 {
			reqs := make([]*http.Request, 2)
			browsers := make([]*browser, 2)
			code := ph.code(0)
			for i := range reqs {
				b, f := e.stopAtSecondFactor(r, clock, "gwen", pw)
				browsers[i], reqs[i] = b, e.formPost(servers[i], f, "code", code)
			}
			var ready, done sync.WaitGroup
			ready.Add(2)
			start := make(chan struct{})
			statuses := make([]int, 2)
			for i := range reqs {
				done.Add(1)
				go func() {
					defer done.Done()
					ready.Done()
					<-start
					resp, err := browsers[i].Do(reqs[i])
					if err != nil {
						t.Error(err)
						return
					}
					resp.Body.Close()
					statuses[i] = resp.StatusCode
				}()
			}
			ready.Wait()
			close(start)
			done.Wait()
			slices.Sort(statuses)
			if !slices.Equal(statuses, []int{http.StatusSeeOther, http.StatusUnauthorized}) {
				t.Fatalf("round %d: statuses %v, want exactly one 303 and one 401", round, statuses)
			}
			clock.Advance(30 * time.Second)
		}
	})
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestDiscoveryListsACRValues(t *testing.T) {
	e := newEnv(t, storagetest.SQLiteDSN(t))
	status, doc, _ := e.do(mustRequest(t, e.issuer+"/.well-known/openid-configuration"))
	acr, _ := doc["acr_values_supported"].([]any)
	if status != http.StatusOK || len(acr) != 2 || acr[0] != "urn:gatehouse:acr:pwd" || acr[1] != "urn:gatehouse:acr:mfa" {
		t.Fatalf("acr_values_supported = %v", doc["acr_values_supported"])
	}
}

func mustRequest(t *testing.T, u string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}
