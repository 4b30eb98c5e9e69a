// Package logout sends OpenID Connect Back-Channel Logout 1.0 logout tokens
// to the clients a browser session signed in to, when that session ends.
//
// Delivery never blocks the person signing out: tokens are POSTed in the
// background through the guarded outbound client, retried a bounded number
// of times, and failures are logged.
package logout
