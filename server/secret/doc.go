// Package secret derives purpose-bound keys from Gatehouse's system secret
// and offers the two primitives built on them: an AEAD for cookies and
// at-rest columns, and a keyed digest for client secrets and other values
// that are looked up or compared but never read back.
//
// Every key is derived with HKDF-SHA256 from the system secret, one per
// purpose, so that a key leaked from one use does not open another. Output
// carries a short key version so that ciphertexts and digests made with a
// previous system secret (GATEHOUSE_SECRET_OLD) still open and verify after
// the secret is rotated.
//
// This package must never log, print or put into an error any secret, key,
// plaintext or digest. It knows nothing of storage or HTTP.
package secret
