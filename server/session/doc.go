// Package session manages the browser side of Gatehouse: the single sign-on
// session cookie (given a new id when a second factor is added to it), the
// pending authorization requests bound to one browser, and the short-lived
// marker of an account sign-in that still owes its second factor.
//
// Cookies carry only a random token sealed with the cookie key; the database
// keeps a SHA-256 digest of it, so a database dump does not yield a usable
// cookie. This package knows nothing of OAuth; it must not import fosite.
package session
