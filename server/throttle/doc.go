// Package throttle applies the brute-force policy to sign-in attempts and
// client authentication.
//
// Sign-in failures are counted in the database, so that every instance sees
// the same counts, per (account, source address), per source address and
// per account. The first two lock for a growing time; the per-account total
// only adds delay, and a browser whose device cookie shows an earlier
// successful sign-in of the account skips all three, so that a stranger
// cannot lock the owner out. Unknown usernames are counted exactly like
// real ones. Client-authentication failures are limited per address in
// memory (client ids are public; the limit protects the server, not an
// account).
package throttle
