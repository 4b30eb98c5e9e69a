// Package mailtest runs a real SMTP server (emersion/go-smtp) on 127.0.0.1
// for tests, and decodes what it receives. It is test support: production
// code must not import it.
package mailtest
