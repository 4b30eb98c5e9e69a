// Package mail sends the mails Gatehouse writes to people: email
// verification, "you already have an account" and password reset. It offers
// a Sender interface with two implementations — SMTP through go-mail
// (STARTTLS or implicit TLS; plain SMTP only to a loopback host) and, for
// development without a mail server, .eml files in a directory — plus
// plain-text templates and an Outbox that delivers in the background, so
// that a page never waits for a mail server and answers alike whether or not
// a mail went out.
//
// Mails carry live single-use links: this package must never log a message
// body, a link or the SMTP password, and never put them into an error. Logs
// name the file (dev mode) or the kind of mail, nothing more. It knows
// nothing of storage or HTTP.
package mail
