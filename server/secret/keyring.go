package secret

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"sync"

	"golang.org/x/crypto/hkdf"
)

// Purpose names what a derived key is for; each purpose gets its own key.
type Purpose string

// The purposes Gatehouse derives keys for.
const (
	// PurposeTokenHMAC keys fosite's HMAC strategy for opaque tokens and codes.
	PurposeTokenHMAC Purpose = "token-hmac"
	// PurposeCookie keys the AEAD of browser cookies.
	PurposeCookie Purpose = "cookie"
	// PurposeAtRest keys the AEAD of encrypted database columns.
	PurposeAtRest Purpose = "at-rest"
	// PurposeClientSecret keys the digests of client secrets.
	PurposeClientSecret Purpose = "client-secret"
	// PurposeRecoveryCode keys the digests of second-factor recovery codes.
	PurposeRecoveryCode Purpose = "recovery-code"
	// PurposeMailToken keys the digests of the single-use links sent by
	// mail (email verification, password reset).
	PurposeMailToken Purpose = "mail-token"
	// PurposeRegistrationToken keys the digests of RFC 7592 registration
	// access tokens.
	PurposeRegistrationToken Purpose = "registration-token"
)

// MinSecretLength is the shortest system secret accepted, in bytes.
const MinSecretLength = 32

const (
	keyLength     = 32
	versionLength = 4
	infoPrefix    = "gatehouse/v1/"
	versionLabel  = "gatehouse/v1/key-version"
)

// Keyring holds the system secret (current and previous ones) and the keys
// derived from it. It is safe for concurrent use.
type Keyring struct {
	secrets [][]byte

	mu      sync.Mutex
	derived map[Purpose][]subkey
}

// subkey is one derived key with the version that names it in outputs.
type subkey struct {
	version [versionLength]byte
	key     []byte
}

// NewKeyring builds a keyring from the current system secret and any previous
// ones, which keep opening and verifying what they produced.
func NewKeyring(current []byte, previous ...[]byte) (*Keyring, error) {
	all := append([][]byte{current}, previous...)
	k := &Keyring{derived: make(map[Purpose][]subkey)}
	for i, s := range all {
		if len(s) < MinSecretLength {
			if i == 0 {
				return nil, fmt.Errorf("secret: the system secret must be at least %d bytes long", MinSecretLength)
			}
			return nil, fmt.Errorf("secret: previous secret #%d must be at least %d bytes long", i, MinSecretLength)
		}
		if k.has(s) {
			continue
		}
		k.secrets = append(k.secrets, append([]byte(nil), s...))
	}
	return k, nil
}

func (k *Keyring) has(s []byte) bool {
	for _, t := range k.secrets {
		if hmac.Equal(s, t) {
			return true
		}
	}
	return false
}

// Key returns the current key for p (32 bytes).
func (k *Keyring) Key(p Purpose) []byte {
	return append([]byte(nil), k.subkeys(p)[0].key...)
}

// Keys returns the keys for p, current first, then those of previous secrets.
func (k *Keyring) Keys(p Purpose) [][]byte {
	sks := k.subkeys(p)
	out := make([][]byte, len(sks))
	for i, sk := range sks {
		out[i] = append([]byte(nil), sk.key...)
	}
	return out
}

// subkeys derives the keys of p once and caches them; callers must not
// modify the returned keys.
func (k *Keyring) subkeys(p Purpose) []subkey {
	k.mu.Lock()
	defer k.mu.Unlock()
	if sks, ok := k.derived[p]; ok {
		return sks
	}
	sks := make([]subkey, len(k.secrets))
	for i, s := range k.secrets {
		sks[i] = deriveSubkey(s, p)
	}
	k.derived[p] = sks
	return sks
}

func deriveSubkey(secret []byte, p Purpose) subkey {
	key := make([]byte, keyLength)
	r := hkdf.New(sha256.New, secret, nil, []byte(infoPrefix+string(p)))
	if _, err := io.ReadFull(r, key); err != nil {
		// HKDF-SHA256 yields up to 255*32 bytes; 32 cannot fail.
		panic("secret: hkdf: " + err.Error())
	}
	// The version is a keyed fingerprint: it names the key without revealing
	// anything usable about it.
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(versionLabel))
	var sk subkey
	copy(sk.version[:], mac.Sum(nil))
	sk.key = key
	return sk
}

// matches reports whether data starts with this key's version.
func (sk subkey) matches(data []byte) bool {
	return len(data) >= versionLength && hmac.Equal(sk.version[:], data[:versionLength])
}

// AssociatedData encodes where an at-rest ciphertext lives, so that it cannot
// be moved to another table, column or row. Each part is length-prefixed, so
// no two different triples encode alike.
func AssociatedData(table, column, rowID string) []byte {
	parts := []string{table, column, rowID}
	n := len("gatehouse/ad/v1")
	for _, p := range parts {
		n += 4 + len(p)
	}
	out := make([]byte, 0, n)
	out = append(out, "gatehouse/ad/v1"...)
	for _, p := range parts {
		out = binary.BigEndian.AppendUint32(out, uint32(len(p)))
		out = append(out, p...)
	}
	return out
}
