package relyingparty

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// home shows the signed-in user, or the login button.
func (a *App) home(w http.ResponseWriter, r *http.Request) {
	id := a.cookie(r, sessionCookie)
	sess, ok := a.sessions.get(id)
	if !ok {
		notice := ""
		if id != "" && a.sessions.endedByProvider(id) {
			notice = "Gatehouse ended your session (back-channel logout), so you were signed out of this app too."
		}
		a.pages.render(w, http.StatusOK, "home", homePage{Notice: notice})
		return
	}
	if sess.notice != "" {
		a.sessions.update(id, func(s *session) { s.notice = "" })
	}
	a.pages.render(w, http.StatusOK, "home", newHomePage(sess))
}

// login starts the authorization code flow with state, nonce and PKCE,
// bound to this browser by a short-lived cookie.
func (a *App) login(w http.ResponseWriter, r *http.Request) {
	p := pendingLogin{
		state:    randomID(),
		nonce:    randomID(),
		verifier: oauth2.GenerateVerifier(),
		expires:  time.Now().Add(loginTimeout),
	}
	a.setCookie(w, loginCookie, a.sessions.addPending(p), loginTimeout)
	http.Redirect(w, r, a.oauth.AuthCodeURL(p.state, oauth2.S256ChallengeOption(p.verifier), oidc.Nonce(p.nonce)), http.StatusSeeOther)
}

// callback finishes the flow: it checks state and iss, exchanges the code
// with the PKCE verifier, verifies the ID token (signature, iss, aud, exp,
// nonce, at_hash) and reads UserInfo.
func (a *App) callback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p, ok := a.sessions.takePending(a.cookie(r, loginCookie))
	a.clearCookie(w, loginCookie)
	if !ok || subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(p.state)) != 1 {
		a.fail(w, http.StatusBadRequest, "This sign-in response does not belong to a sign-in started in this browser, or it took too long.", nil)
		return
	}
	if iss := q.Get("iss"); iss != a.cfg.Issuer && (iss != "" || a.issParameter) {
		a.fail(w, http.StatusBadRequest, "The sign-in response came from an unexpected provider.", nil)
		return
	}
	if e := q.Get("error"); e != "" {
		msg := "Gatehouse did not sign you in (" + e + ")."
		if e == "access_denied" {
			msg = "You did not allow this app to access your account, so you are not signed in."
		}
		a.fail(w, http.StatusOK, msg, nil)
		return
	}
	ctx := a.clientContext(r.Context())
	tok, err := a.oauth.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(p.verifier))
	if err != nil {
		a.fail(w, http.StatusBadGateway, "The app could not redeem the authorization code.", err)
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := a.verifier.Verify(ctx, raw)
	if err != nil {
		a.fail(w, http.StatusBadGateway, "The ID token did not verify.", err)
		return
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(p.nonce)) != 1 {
		a.fail(w, http.StatusBadGateway, "The ID token was not issued for this sign-in (nonce).", nil)
		return
	}
	if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
		a.fail(w, http.StatusBadGateway, "The access token does not match the ID token (at_hash).", err)
		return
	}
	sess := &session{sub: idt.Subject, rawIDToken: raw, token: tok}
	if err := a.fillSession(ctx, sess, idt); err != nil {
		a.fail(w, http.StatusBadGateway, "The app could not read your profile.", err)
		return
	}
	sess.sid, _ = sess.claims["sid"].(string)
	a.setCookie(w, sessionCookie, a.sessions.add(sess), 0)
	a.cfg.Logger.InfoContext(r.Context(), "signed in", "sub", idt.Subject)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// fillSession reads the verified claims and the UserInfo response, whose
// sub must be the ID token's (OpenID Connect Core §5.3.2).
func (a *App) fillSession(ctx context.Context, sess *session, idt *oidc.IDToken) error {
	if err := idt.Claims(&sess.claims); err != nil {
		return fmt.Errorf("read ID token claims: %w", err)
	}
	info, err := a.provider.UserInfo(ctx, oauth2.StaticTokenSource(sess.token))
	if err != nil {
		return fmt.Errorf("userinfo: %w", err)
	}
	if info.Subject != idt.Subject {
		return errors.New("userinfo: sub differs from the ID token's")
	}
	sess.userInfo = nil
	return info.Claims(&sess.userInfo)
}

// refresh uses the refresh token (rotated by Gatehouse at every use) and
// verifies the new ID token, which must name the same user.
func (a *App) refresh(w http.ResponseWriter, r *http.Request) {
	id := a.cookie(r, sessionCookie)
	sess, ok := a.sessions.get(id)
	if !ok {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	if sess.token.RefreshToken == "" {
		a.fail(w, http.StatusBadRequest, "This sign-in has no refresh token.", nil)
		return
	}
	ctx := a.clientContext(r.Context())
	expired := *sess.token
	expired.Expiry = time.Now().Add(-time.Minute) // force the refresh
	tok, err := a.oauth.TokenSource(ctx, &expired).Token()
	if err != nil {
		a.fail(w, http.StatusBadGateway, "Gatehouse refused to refresh the tokens; sign in again.", err)
		return
	}
	sess.token = tok
	idt, err := a.verifyRefreshedIDToken(ctx, &sess, tok)
	if err != nil {
		a.fail(w, http.StatusBadGateway, "The refreshed ID token did not verify.", err)
		return
	}
	if err := a.fillSession(ctx, &sess, idt); err != nil {
		a.fail(w, http.StatusBadGateway, "The app could not read your profile.", err)
		return
	}
	sess.notice = "Tokens refreshed at " + time.Now().UTC().Format("15:04:05") + " UTC."
	if !a.sessions.update(id, func(s *session) { *s = sess }) {
		a.fail(w, http.StatusConflict, "You were signed out meanwhile.", nil)
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// verifyRefreshedIDToken verifies the ID token of a refresh response; a
// response without one keeps the old claims.
func (a *App) verifyRefreshedIDToken(ctx context.Context, sess *session, tok *oauth2.Token) (*oidc.IDToken, error) {
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		raw = sess.rawIDToken
		// The old ID token may have expired; its signature still counts.
		v := a.provider.Verifier(&oidc.Config{ClientID: a.cfg.ClientID, SkipExpiryCheck: true})
		return v.Verify(ctx, raw)
	}
	idt, err := a.verifier.Verify(ctx, raw)
	if err != nil {
		return nil, err
	}
	if idt.Subject != sess.sub {
		return nil, errors.New("refreshed ID token names another user")
	}
	if idt.AccessTokenHash != "" {
		if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
			return nil, err
		}
	}
	sess.rawIDToken = raw
	return idt, nil
}

// logout ends the app's session and sends the browser to the provider's
// end_session_endpoint with the ID token as hint, to come back to the
// registered post-logout URI with a state only this browser knows.
func (a *App) logout(w http.ResponseWriter, r *http.Request) {
	id := a.cookie(r, sessionCookie)
	sess, ok := a.sessions.get(id)
	a.sessions.remove(id)
	a.clearCookie(w, sessionCookie)
	if !ok || a.endSession == "" {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	state := randomID()
	a.setCookie(w, logoutCookie, state, loginTimeout)
	q := url.Values{
		"id_token_hint":            {sess.rawIDToken},
		"client_id":                {a.cfg.ClientID},
		"post_logout_redirect_uri": {a.cfg.PostLogoutRedirectURL},
		"state":                    {state},
	}
	http.Redirect(w, r, a.endSession+"?"+q.Encode(), http.StatusSeeOther)
}

// signedOutPage is the post-logout redirect target; the state tells that
// the provider really sent the browser back from this browser's logout.
func (a *App) signedOutPage(w http.ResponseWriter, r *http.Request) {
	want := a.cookie(r, logoutCookie)
	a.clearCookie(w, logoutCookie)
	got := r.URL.Query().Get("state")
	page := signedOutPage{Verified: want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1}
	a.pages.render(w, http.StatusOK, "signed_out", page)
}

// fail shows an error page; the cause goes to the log only.
func (a *App) fail(w http.ResponseWriter, status int, msg string, cause error) {
	if cause != nil {
		a.cfg.Logger.Warn("sign-in failed", "reason", msg, "err", cause)
	}
	a.pages.render(w, status, "error", errorPage{Message: msg})
}
