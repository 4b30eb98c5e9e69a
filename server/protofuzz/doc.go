// Package protofuzz holds only fuzz tests: the authorization, token,
// introspection and revocation endpoints are fed arbitrary requests through
// the real router on a SQLite database, and no input may make the server
// panic or answer 5xx. It must not hold production code; it has its own
// package so that its fuzz workers do not run the end-to-end suite's
// TestMain (which checks the logs of the whole suite).
package protofuzz
