package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
)

// ErrDecrypt is returned by Open for any ciphertext that does not open: wrong
// key, wrong associated data, truncated or tampered. It says no more on purpose.
var ErrDecrypt = errors.New("secret: message authentication failed")

// AEAD encrypts with AES-256-GCM under the current key of one purpose and
// decrypts with any key of the ring. Output: version (4) || nonce (12) ||
// ciphertext and tag.
type AEAD struct {
	keys []aeadKey
}

type aeadKey struct {
	subkey
	gcm cipher.AEAD
}

// AEAD returns the authenticated cipher of purpose p.
func (k *Keyring) AEAD(p Purpose) *AEAD {
	sks := k.subkeys(p)
	a := &AEAD{keys: make([]aeadKey, len(sks))}
	for i, sk := range sks {
		block, err := aes.NewCipher(sk.key)
		if err != nil {
			// Only a key of the wrong size fails, and ours are 32 bytes.
			panic("secret: aes: " + err.Error())
		}
		gcm, err := cipher.NewGCM(block)
		if err != nil {
			panic("secret: gcm: " + err.Error())
		}
		a.keys[i] = aeadKey{subkey: sk, gcm: gcm}
	}
	return a
}

// Seal encrypts plaintext bound to associatedData with the current key.
func (a *AEAD) Seal(plaintext, associatedData []byte) ([]byte, error) {
	cur := a.keys[0]
	ns := cur.gcm.NonceSize()
	out := make([]byte, versionLength+ns, versionLength+ns+len(plaintext)+cur.gcm.Overhead())
	copy(out, cur.version[:])
	nonce := out[versionLength : versionLength+ns]
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return cur.gcm.Seal(out, nonce, plaintext, associatedData), nil
}

// Open decrypts a ciphertext made by Seal with the same associated data,
// whichever key of the ring sealed it.
func (a *AEAD) Open(ciphertext, associatedData []byte) ([]byte, error) {
	if len(ciphertext) < versionLength {
		return nil, ErrDecrypt
	}
	for _, k := range a.keys {
		if !k.matches(ciphertext) {
			continue
		}
		ns := k.gcm.NonceSize()
		if len(ciphertext) < versionLength+ns+k.gcm.Overhead() {
			return nil, ErrDecrypt
		}
		nonce := ciphertext[versionLength : versionLength+ns]
		if pt, err := k.gcm.Open(nil, nonce, ciphertext[versionLength+ns:], associatedData); err == nil {
			return pt, nil
		}
	}
	return nil, ErrDecrypt
}
