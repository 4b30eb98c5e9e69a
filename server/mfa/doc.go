// Package mfa is Gatehouse's second factor: TOTP authenticator apps
// (enrollment, verification with replay protection), single-use recovery
// codes and the second-factor lockout. It wraps github.com/pquerna/otp and
// rsc.io/qr behind one small API and keeps its state through
// storage.SecondFactors.
//
// Secrets are sealed with the at-rest AEAD, bound to the user id; recovery
// codes are kept only as keyed digests; every comparison takes constant
// time; a time step is accepted once per user, decided by a conditional
// update in the database, so that a code cannot be replayed on any instance.
//
// This package knows nothing of HTTP, sessions or pages, and must never log,
// return in an error or store in clear a secret, a code or a recovery code.
package mfa
