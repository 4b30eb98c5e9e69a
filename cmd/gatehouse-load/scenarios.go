package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// apiScope is the scope the client_credentials clients ask for, carried by
// a role of this run.
const apiScope = "load:read"

// redirectURI of the web clients: nothing listens there, the browser stops
// at the redirect.
const redirectURI = "http://127.0.0.1:9/callback"

// registered is a client this run created.
type registered struct {
	id, secret, auth string
}

// createClient registers a client through the admin API and grants it roles.
func (h *harness) createClient(ctx context.Context, spec map[string]any, roles ...string) (registered, error) {
	spec["client_name"] = fmt.Sprintf("load %s %s", h.run, spec["client_name"])
	var out struct {
		Client struct {
			ID string `json:"client_id"`
		} `json:"client"`
		Secret string `json:"client_secret"`
	}
	if err := h.admin(ctx, "POST", "/admin/clients", spec, &out); err != nil {
		return registered{}, err
	}
	for _, role := range roles {
		if err := h.admin(ctx, "PUT", "/admin/clients/"+url.PathEscape(out.Client.ID)+"/roles/"+url.PathEscape(role), nil, nil); err != nil {
			return registered{}, err
		}
	}
	return registered{id: out.Client.ID, secret: out.Secret, auth: basicAuth(out.Client.ID, out.Secret)}, nil
}

// createRole creates a role of this run carrying scopes and returns its name.
func (h *harness) createRole(ctx context.Context, purpose string, scopes ...string) (string, error) {
	name := strings.ToLower("load-" + h.run + "-" + purpose)
	err := h.admin(ctx, "POST", "/admin/roles", map[string]any{"name": name, "scopes": scopes, "description": "gatehouse-load " + purpose}, nil)
	return name, err
}

// createUsers creates n users of this run, four at a time (each costs the
// server a password hash); enroll also sets up TOTP for each.
func (h *harness) createUsers(ctx context.Context, purpose string, n int, enroll bool) ([]*loadUser, error) {
	users := make([]*loadUser, n)
	purpose = fmt.Sprintf("%s%d", purpose, h.batches.Add(1))
	errs := make(chan error, n)
	var next sync.Mutex
	i := 0
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				next.Lock()
				k := i
				i++
				next.Unlock()
				if k >= n || ctx.Err() != nil {
					return
				}
				u := &loadUser{name: fmt.Sprintf("load-%s-%s-%d", h.run, purpose, k), password: randomString(18)}
				if err := h.admin(ctx, "POST", "/admin/users", map[string]any{"username": u.name, "email": u.name + "@load.test", "password": u.password}, nil); err != nil {
					errs <- err
					return
				}
				if enroll {
					b := h.newBrowser()
					if err := b.signInAccount(ctx, u); err != nil {
						errs <- err
						return
					}
					if err := b.enrollTOTP(ctx, u); err != nil {
						errs <- err
						return
					}
				}
				users[k] = u
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, err
	}
	return users, ctx.Err()
}

func prepareClientCredentials(alg string) func(context.Context, *harness, int) ([]op, error) {
	return func(ctx context.Context, h *harness, workers int) ([]op, error) {
		role, err := h.createRole(ctx, "api"+alg, apiScope)
		if err != nil {
			return nil, err
		}
		spec := map[string]any{"client_name": "service " + alg, "grant_types": []string{"client_credentials"}, "scopes": []string{apiScope}}
		if alg != "" {
			spec["access_token_format"] = "jwt"
			spec["id_token_signed_response_alg"] = alg
			spec["audience"] = []string{"https://api.load.test"}
		}
		c, err := h.createClient(ctx, spec, role)
		if err != nil {
			return nil, err
		}
		form := "grant_type=client_credentials&scope=" + url.QueryEscape(apiScope)
		issue := func(ctx context.Context) error {
			_, err := h.token(ctx, form, c.auth)
			return err
		}
		return repeat(issue, workers), nil
	}
}

func repeat(o op, n int) []op {
	ops := make([]op, n)
	for i := range ops {
		ops[i] = o
	}
	return ops
}

// prepareIntrospection issues a pool of opaque access tokens to one client;
// a resource server holding gatehouse:introspect introspects them.
func prepareIntrospection(ctx context.Context, h *harness, workers int) ([]op, error) {
	apiRole, err := h.createRole(ctx, "introspected", apiScope)
	if err != nil {
		return nil, err
	}
	service, err := h.createClient(ctx, map[string]any{"client_name": "introspected", "grant_types": []string{"client_credentials"}, "scopes": []string{apiScope}}, apiRole)
	if err != nil {
		return nil, err
	}
	rsRole, err := h.createRole(ctx, "introspect", "gatehouse:introspect")
	if err != nil {
		return nil, err
	}
	rs, err := h.createClient(ctx, map[string]any{"client_name": "resource server", "grant_types": []string{"client_credentials"}, "scopes": []string{"gatehouse:introspect"}}, rsRole)
	if err != nil {
		return nil, err
	}
	pool := make([]string, h.o.poolSize)
	form := "grant_type=client_credentials&scope=" + url.QueryEscape(apiScope)
	for i := range pool {
		t, err := h.token(ctx, form, service.auth)
		if err != nil {
			return nil, fmt.Errorf("fill the token pool: %w", err)
		}
		pool[i] = "token=" + url.QueryEscape(t.AccessToken)
	}
	ops := make([]op, workers)
	for w := range ops {
		next := w * len(pool) / workers
		ops[w] = func(ctx context.Context) error {
			next = (next + 1) % len(pool)
			var out struct {
				Active bool `json:"active"`
			}
			if err := h.postForm(ctx, "/oauth2/introspect", pool[next], rs.auth, &out); err != nil {
				return err
			}
			if !out.Active {
				return errors.New("introspection: an unexpired token reads inactive")
			}
			return nil
		}
	}
	return ops, nil
}

// webApp is a confidential web application of this run.
type webApp struct {
	h      *harness
	client registered
	conf   *oauth2.Config
}

func (h *harness) newWebApp(ctx context.Context, name string, skipConsent bool) (*webApp, error) {
	c, err := h.createClient(ctx, map[string]any{
		"client_name": name, "redirect_uris": []string{redirectURI},
		"grant_types":  []string{"authorization_code", "refresh_token"},
		"scopes":       []string{"openid", "profile", "email", "offline_access"},
		"skip_consent": skipConsent, "id_token_signed_response_alg": h.o.idTokenAlg,
	})
	if err != nil {
		return nil, err
	}
	conf := &oauth2.Config{ClientID: c.id, RedirectURL: redirectURI,
		Endpoint: oauth2.Endpoint{AuthURL: h.target + "/oauth2/auth"}}
	return &webApp{h: h, client: c, conf: conf}, nil
}

// flow runs one authorization code flow in b and exchanges the code.
func (a *webApp) flow(ctx context.Context, b *browser, p person, scope string, extra ...oauth2.AuthCodeOption) (tokenResponse, error) {
	verifier := oauth2.GenerateVerifier()
	state := randomString(16)
	opts := append([]oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier),
		oauth2.SetAuthURLParam("nonce", randomString(16)), oauth2.SetAuthURLParam("scope", scope)}, extra...)
	code, err := b.authorize(ctx, a.conf.AuthCodeURL(state, opts...), redirectURI, state, p)
	if err != nil {
		return tokenResponse{}, err
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}, "code_verifier": {verifier}}
	t, err := a.h.token(ctx, form.Encode(), a.client.auth)
	if err != nil {
		return t, err
	}
	if t.IDToken == "" {
		return t, errors.New("code exchange: no id_token")
	}
	return t, nil
}

// signedIn gives each worker a browser signed in as its own user, with
// consent to app remembered, and the tokens of that first flow.
func (h *harness) signedIn(ctx context.Context, app *webApp, workers int, scope string) ([]*browser, []tokenResponse, error) {
	users, err := h.createUsers(ctx, "session", workers, false)
	if err != nil {
		return nil, nil, err
	}
	browsers := make([]*browser, workers)
	tokens := make([]tokenResponse, workers)
	for i, u := range users {
		browsers[i] = h.newBrowser()
		if tokens[i], err = app.flow(ctx, browsers[i], person{user: u, consent: true}, scope); err != nil {
			return nil, nil, fmt.Errorf("first sign-in of %s: %w", u.name, err)
		}
	}
	return browsers, tokens, nil
}

// prepareRefresh gives each worker its own refresh-token chain: every
// refresh must answer a new refresh token, and the old one is never sent again.
func prepareRefresh(ctx context.Context, h *harness, workers int) ([]op, error) {
	app, err := h.newWebApp(ctx, "refresh", false)
	if err != nil {
		return nil, err
	}
	_, tokens, err := h.signedIn(ctx, app, workers, "openid offline_access")
	if err != nil {
		return nil, err
	}
	ops := make([]op, workers)
	for w := range ops {
		current := tokens[w].RefreshToken
		if current == "" {
			return nil, errors.New("the first flow answered no refresh token")
		}
		ops[w] = func(ctx context.Context) error {
			form := "grant_type=refresh_token&refresh_token=" + url.QueryEscape(current)
			t, err := h.token(ctx, form, app.client.auth)
			if err != nil {
				return err
			}
			if t.RefreshToken == "" || t.RefreshToken == current {
				return errors.New("refresh: no new refresh token")
			}
			current = t.RefreshToken
			return nil
		}
	}
	return ops, nil
}

// prepareCode: each worker's browser has a session and remembered consent;
// a flow is authorize → code → token. consentEveryTime asks prompt=consent,
// so each flow also loads and answers the consent page.
func prepareCode(consentEveryTime bool) func(context.Context, *harness, int) ([]op, error) {
	return func(ctx context.Context, h *harness, workers int) ([]op, error) {
		app, err := h.newWebApp(ctx, "code", false)
		if err != nil {
			return nil, err
		}
		const scope = "openid profile"
		browsers, _, err := h.signedIn(ctx, app, workers, scope)
		if err != nil {
			return nil, err
		}
		var extra []oauth2.AuthCodeOption
		if consentEveryTime {
			extra = append(extra, oauth2.SetAuthURLParam("prompt", "consent"))
		}
		ops := make([]op, workers)
		for w, b := range browsers {
			ops[w] = func(ctx context.Context) error {
				_, err := app.flow(ctx, b, person{consent: consentEveryTime}, scope, extra...)
				return err
			}
		}
		return ops, nil
	}
}

// prepareLogin: every flow is a new browser that signs in with a password
// (and a TOTP code) to a first-party app, then exchanges the code.
func prepareLogin(withTOTP bool) func(context.Context, *harness, int) ([]op, error) {
	return func(ctx context.Context, h *harness, workers int) ([]op, error) {
		app, err := h.newWebApp(ctx, "login", true)
		if err != nil {
			return nil, err
		}
		n := h.o.users
		if n == 0 {
			n = workers
			if withTOTP {
				n = 1200
			}
		}
		purpose := "login"
		if withTOTP {
			purpose = "totp"
		}
		fmt.Printf("# creating %d users (TOTP: %v)\n", n, withTOTP)
		users, err := h.createUsers(ctx, purpose, n, withTOTP)
		if err != nil {
			return nil, err
		}
		pool := &userPool{users: users}
		signIn := func(ctx context.Context) error {
			u, err := pool.take(time.Now())
			if err != nil {
				return err
			}
			_, err = app.flow(ctx, h.newBrowser(), person{user: u}, "openid profile")
			return err
		}
		return repeat(signIn, workers), nil
	}
}

// userPool hands out users round robin; a TOTP user is handed out at most
// once per 30-second step (its code is accepted once). When every user has
// signed in during the current step, take answers errWait: a pool too small
// for the rate shows as a lower rate, not as errors.
type userPool struct {
	mu    sync.Mutex
	users []*loadUser
	next  int
}

func (p *userPool) take(now time.Time) (*loadUser, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	step := totpStep(now)
	for range p.users {
		u := p.users[p.next]
		p.next = (p.next + 1) % len(p.users)
		if u.totpSecret == "" || u.lastStep.Load() < step {
			u.lastStep.Store(step)
			return u, nil
		}
	}
	return nil, errWait
}
