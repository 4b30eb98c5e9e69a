// Package relyingparty is the example "log in with Gatehouse" web
// application: a confidential OpenID Connect client built only on
// golang.org/x/oauth2 and github.com/coreos/go-oidc/v3, the libraries a Go
// web app would use with any OpenID provider. It signs people in with the
// authorization code flow (state, nonce and PKCE checked), shows the
// verified ID token claims and the UserInfo response, refreshes tokens,
// signs out through the provider's end_session_endpoint, and ends its own
// sessions when the provider sends a back-channel logout token.
//
// It keeps its sessions in memory (one process, an example), depends on
// nothing of Gatehouse's code and must not: it talks to Gatehouse only
// through the protocol, as a third-party app would.
package relyingparty
