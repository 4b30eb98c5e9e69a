// Package credential hashes and verifies what users and clients prove
// themselves with: passwords (argon2id, PHC strings, bounded concurrency) and
// server-generated client secrets (keyed digests through server/secret, as
// fosite's Hasher). It also generates the random identifiers Gatehouse hands
// out.
//
// It must never log, print or put into an error a password, secret or hash,
// and must not use bcrypt: it truncates passwords at 72 bytes and costs a
// quarter second per confidential-client token request.
package credential
