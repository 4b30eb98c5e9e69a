package main

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/gatehouse/gatehouse/server/credential"
	"github.com/gatehouse/gatehouse/server/manage"
)

// demoScope is the scope of the printed authorization URL.
const demoScope = "openid profile email offline_access"

// startedInfo is what serve prints on stdout once it listens. Outside dev
// mode only --json prints it (issuer and addr).
type startedInfo struct {
	Issuer       string `json:"issuer"`
	Addr         string `json:"addr"`
	Discovery    string `json:"discovery_url"`
	ClientID     string `json:"client_id,omitempty"`
	ClientSecret string `json:"client_secret,omitempty"`
	RedirectURI  string `json:"redirect_uri,omitempty"`
	Username     string `json:"username,omitempty"`
	Password     string `json:"password,omitempty"`
	State        string `json:"state,omitempty"`
	Nonce        string `json:"nonce,omitempty"`
	CodeVerifier string `json:"code_verifier,omitempty"`
	AuthorizeURL string `json:"authorize_url,omitempty"`
}

// printStarted prints the started banner: with --json one JSON object; in dev
// mode a block of "key: value" lines (README, "Development mode output").
// Credentials go to stdout only, never to the log.
func (a *app) printStarted(issuer, addr string, demo *manage.Demo) error {
	info := startedInfo{Issuer: issuer, Addr: addr, Discovery: issuer + "/.well-known/openid-configuration"}
	if demo != nil {
		info.ClientID, info.ClientSecret, info.RedirectURI = demo.ClientID, demo.ClientSecret, demo.RedirectURI
		info.Username, info.Password = demo.Username, demo.Password
		info.State, info.Nonce = credential.RandomID(12), credential.RandomID(12)
		info.CodeVerifier = credential.RandomID(32)
		info.AuthorizeURL = authorizeURL(issuer, demo.ClientID, demo.RedirectURI, info.State, info.Nonce, info.CodeVerifier)
	}
	if a.json {
		return json.NewEncoder(a.stdout).Encode(info)
	}
	if demo == nil {
		return nil
	}
	var b strings.Builder
	b.WriteString("Gatehouse is running in development mode. Do not use it in production.\n\n")
	for _, kv := range [][2]string{
		{"issuer", info.Issuer},
		{"addr", info.Addr},
		{"discovery_url", info.Discovery},
		{"client_id", info.ClientID},
		{"client_secret", info.ClientSecret},
		{"redirect_uri", info.RedirectURI},
		{"username", info.Username},
		{"password", info.Password},
		{"state", info.State},
		{"nonce", info.Nonce},
		{"code_verifier", info.CodeVerifier},
		{"authorize_url", info.AuthorizeURL},
	} {
		fmt.Fprintf(&b, "%-14s %s\n", kv[0]+":", kv[1])
	}
	fmt.Fprintf(&b, `
Open authorize_url in a browser and sign in with the username and password
above. The browser then goes to redirect_uri, where nothing listens: copy the
code parameter from its address bar and exchange it within a minute:

  curl -u '%s:%s' -d grant_type=authorization_code \
    -d code=PASTE_THE_CODE -d redirect_uri=%s \
    -d code_verifier=%s %s/oauth2/token

The client secret and the password change at every start.
`, info.ClientID, info.ClientSecret, url.QueryEscape(info.RedirectURI), info.CodeVerifier, info.Issuer)
	_, err := fmt.Fprint(a.stdout, b.String())
	return err
}

// authorizeURL builds an authorization code request with PKCE (S256).
func authorizeURL(issuer, clientID, redirectURI, state, nonce, verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	params := [][2]string{
		{"response_type", "code"},
		{"client_id", clientID},
		{"redirect_uri", redirectURI},
		{"scope", demoScope},
		{"state", state},
		{"nonce", nonce},
		{"code_challenge", base64.RawURLEncoding.EncodeToString(sum[:])},
		{"code_challenge_method", "S256"},
	}
	var q strings.Builder
	for i, p := range params {
		if i > 0 {
			q.WriteByte('&')
		}
		q.WriteString(p[0] + "=" + url.QueryEscape(p[1]))
	}
	return issuer + "/oauth2/auth?" + q.String()
}
