package secret

import (
	"crypto/hmac"
	"crypto/sha256"
)

// Digester computes keyed digests: version (4) || HMAC-SHA256(key, data).
// Use it for values that are compared but never read back, such as client
// secrets; with a high-entropy input a keyed digest is as safe as a slow hash.
type Digester struct {
	keys []subkey
}

// DigestLength is the length of a digest in bytes.
const DigestLength = versionLength + sha256.Size

// Digester returns the keyed digest of purpose p.
func (k *Keyring) Digester(p Purpose) *Digester {
	return &Digester{keys: k.subkeys(p)}
}

// Digest returns the digest of data under the current key.
func (d *Digester) Digest(data []byte) []byte {
	cur := d.keys[0]
	out := make([]byte, versionLength, DigestLength)
	copy(out, cur.version[:])
	return mac(out, cur.key, data)
}

// Verify reports whether digest is the digest of data under any key of the
// ring. The comparison takes the same time wherever the digests differ.
func (d *Digester) Verify(digest, data []byte) bool {
	if len(digest) != DigestLength {
		return false
	}
	ok := false
	for _, k := range d.keys {
		if !k.matches(digest) {
			continue
		}
		if hmac.Equal(mac(nil, k.key, data), digest[versionLength:]) {
			ok = true
		}
	}
	return ok
}

func mac(dst, key, data []byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write(data)
	return h.Sum(dst)
}

// Candidates returns the digest of data under every key of the ring, the
// current key first: the values a digest stored before a rotation of the
// system secret may have, for looking a record up by its digest.
func (d *Digester) Candidates(data []byte) [][]byte {
	out := make([][]byte, len(d.keys))
	for i, k := range d.keys {
		digest := make([]byte, versionLength, DigestLength)
		copy(digest, k.version[:])
		out[i] = mac(digest, k.key, data)
	}
	return out
}
