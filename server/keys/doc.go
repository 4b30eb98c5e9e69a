// Package keys manages Gatehouse's own signing keys: their lifecycle in the
// database (create, publish, activate, retire), the JWKS that publishes them,
// and the fosite jwt.Signer that signs ID tokens, JWT access tokens and logout
// tokens with them. All key handling uses go-jose v4.
//
// Rotation publishes a new key at once and signs with it only once every
// cached JWKS has had time to pick it up (the cache lifetime plus a margin).
// Every instance follows the database by polling, so no instance needs a
// restart after `keys rotate` or `keys retire`.
//
// Private keys exist in clear only in memory; in the database they are sealed
// with the at-rest AEAD and bound to their kid. This package must never log
// or return key material, and must not talk to the database except through
// storage.SigningKeys.
package keys
