package relyingparty

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strings"
)

// backchannelEvent is the member a logout token's events claim must have.
const backchannelEvent = "http://schemas.openid.net/event/backchannel-logout"

// backchannelLogout receives a logout token from the provider (OpenID
// Connect Back-Channel Logout 1.0 §2.5) and ends the app's sessions it
// names. It answers 200 when the token is valid, whether or not a session
// matched, and 400 otherwise.
func (a *App) backchannelLogout(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	raw := r.PostFormValue("logout_token")
	sub, sid, err := a.verifyLogoutToken(r.Context(), raw)
	if err != nil {
		a.cfg.Logger.WarnContext(r.Context(), "back-channel logout refused", "err", err)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": "invalid_request", "error_description": "the logout token is not valid"})
		return
	}
	n := a.sessions.endByProvider(sub, sid)
	a.cfg.Logger.InfoContext(r.Context(), "back-channel logout", "sub", sub, "sessions_ended", n)
	w.WriteHeader(http.StatusOK)
}

// verifyLogoutToken checks a logout token (§2.6): signature against the
// provider's JWKS, iss, aud, exp (go-oidc's VerifyLogout, which also
// requires the event, jti, sub or sid, and refuses a nonce), and on top of
// it the explicit type logout+jwt (§2.4), iat, the event's value being a
// JSON object, and that the token was not seen before.
func (a *App) verifyLogoutToken(ctx context.Context, raw string) (sub, sid string, err error) {
	if raw == "" {
		return "", "", errors.New("no logout_token")
	}
	lt, err := a.verifier.VerifyLogout(a.clientContext(ctx), raw)
	if err != nil {
		return "", "", err
	}
	if err := checkLogoutType(raw); err != nil {
		return "", "", err
	}
	if lt.IssuedAt.IsZero() {
		return "", "", errors.New("logout token without iat")
	}
	var claims struct {
		Events map[string]json.RawMessage `json:"events"`
	}
	if err := lt.Claims(&claims); err != nil {
		return "", "", fmt.Errorf("read logout token claims: %w", err)
	}
	var event map[string]any
	if err := json.Unmarshal(claims.Events[backchannelEvent], &event); err != nil || event == nil {
		return "", "", errors.New("logout token event is not a JSON object")
	}
	if !a.sessions.firstUse(lt.TokenID, lt.Expiry) {
		return "", "", errors.New("logout token replayed")
	}
	return lt.Subject, lt.SessionID, nil
}

// checkLogoutType requires the JOSE header typ to be logout+jwt, so that
// no other kind of JWT from the provider can pass as a logout token. The
// signature over the header was checked before.
func checkLogoutType(raw string) error {
	head, _, _ := strings.Cut(raw, ".")
	b, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		return fmt.Errorf("logout token header: %w", err)
	}
	var h struct {
		Typ string `json:"typ"`
	}
	if err := json.Unmarshal(b, &h); err != nil {
		return fmt.Errorf("logout token header: %w", err)
	}
	// Media types compare case-insensitively, and "application/" may be left out (RFC 7515 §4.1.9).
	typ := strings.ToLower(h.Typ)
	if mt, _, err := mime.ParseMediaType(typ); err == nil {
		typ = mt
	}
	if typ != "logout+jwt" && typ != "application/logout+jwt" {
		return fmt.Errorf("logout token typ %q, want logout+jwt", h.Typ)
	}
	return nil
}
