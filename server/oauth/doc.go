// Package oauth is Gatehouse's protocol surface: the fosite composition and
// the OAuth 2.0 / OpenID Connect endpoints (authorization, token, revocation,
// introspection, UserInfo, discovery).
//
// The authorization endpoint is also the dispatcher of the interactive flow:
// it decides from the browser session and the persisted pending request
// whether the person must sign in or consent, sends them to the pages of
// server/ui, and finishes the flow when they come back to the resume URL.
// This package writes protocol errors to clients; people get pages.
package oauth
