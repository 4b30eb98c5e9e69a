package secret

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"strings"
	"testing"

	"golang.org/x/crypto/hkdf"
)

var (
	secretA = []byte("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-current")
	secretB = []byte("bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-previous")
	secretC = []byte("cccccccccccccccccccccccccccccccc-older")
)

func mustKeyring(t *testing.T, current []byte, previous ...[]byte) *Keyring {
	t.Helper()
	k, err := NewKeyring(current, previous...)
	if err != nil {
		t.Fatalf("NewKeyring: %v", err)
	}
	return k
}

func TestNewKeyringRefusesShortSecrets(t *testing.T) {
	short := []byte("tooshort-but-secret-value-31byte")[:31]
	tests := []struct {
		name     string
		current  []byte
		previous [][]byte
		wantErr  bool
	}{
		{"empty", nil, nil, true},
		{"31 bytes", short, nil, true},
		{"32 bytes", secretA[:32], nil, false},
		{"short previous", secretA, [][]byte{short}, true},
		{"good previous", secretA, [][]byte{secretB, secretC}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewKeyring(tt.current, tt.previous...)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if err != nil && len(short) > 0 && strings.Contains(err.Error(), string(short)) {
				t.Fatalf("error message echoes the secret: %q", err)
			}
			if err != nil && !strings.Contains(err.Error(), "32 bytes") {
				t.Fatalf("error %q does not say the minimum length", err)
			}
		})
	}
}

func TestKeyDerivationIsHKDFSHA256(t *testing.T) {
	// Pinned so that a change of derivation, which would orphan every stored
	// ciphertext and digest, cannot go unnoticed.
	k := mustKeyring(t, secretA, secretB)
	for _, p := range []Purpose{PurposeTokenHMAC, PurposeCookie, PurposeAtRest, PurposeClientSecret} {
		want := make([]byte, 32)
		if _, err := io.ReadFull(hkdf.New(sha256.New, secretA, nil, []byte("gatehouse/v1/"+string(p))), want); err != nil {
			t.Fatal(err)
		}
		if got := k.Key(p); !bytes.Equal(got, want) {
			t.Errorf("Key(%s) is not HKDF-SHA256(secret, info=gatehouse/v1/%s)", p, p)
		}
		keys := k.Keys(p)
		if len(keys) != 2 || !bytes.Equal(keys[0], want) || bytes.Equal(keys[1], want) {
			t.Errorf("Keys(%s): want current first, then the previous secret's key", p)
		}
	}
}

func TestPurposesAreIndependent(t *testing.T) {
	k := mustKeyring(t, secretA)
	purposes := []Purpose{PurposeTokenHMAC, PurposeCookie, PurposeAtRest, PurposeClientSecret}
	seen := map[string]Purpose{}
	for _, p := range purposes {
		key := string(k.Key(p))
		if q, dup := seen[key]; dup {
			t.Fatalf("purposes %s and %s share a key", p, q)
		}
		seen[key] = p
	}

	ct, err := k.AEAD(PurposeCookie).Seal([]byte("hello"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.AEAD(PurposeAtRest).Open(ct, nil); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("at-rest AEAD opened a cookie ciphertext: %v", err)
	}
	d := k.Digester(PurposeClientSecret).Digest([]byte("s3cret"))
	if k.Digester(PurposeTokenHMAC).Verify(d, []byte("s3cret")) {
		t.Fatal("a client-secret digest verified under another purpose")
	}
}

func TestAEAD(t *testing.T) {
	k := mustKeyring(t, secretA)
	a := k.AEAD(PurposeAtRest)
	ad := AssociatedData("users", "totp_secret", "u1")
	plaintext := []byte("the quick brown fox")
	ct, err := a.Seal(plaintext, ad)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(ct, plaintext) {
		t.Fatal("ciphertext contains the plaintext")
	}
	ct2, _ := a.Seal(plaintext, ad)
	if bytes.Equal(ct, ct2) {
		t.Fatal("two seals of the same plaintext are equal (nonce reuse)")
	}

	flip := func(i int) []byte {
		c := bytes.Clone(ct)
		c[i] ^= 0x01
		return c
	}
	tests := []struct {
		name   string
		ct, ad []byte
		ok     bool
	}{
		{"round trip", ct, ad, true},
		{"wrong row", ct, AssociatedData("users", "totp_secret", "u2"), false},
		{"wrong column", ct, AssociatedData("users", "password", "u1"), false},
		{"no associated data", ct, nil, false},
		{"tampered version", flip(0), ad, false},
		{"tampered nonce", flip(versionLength + 1), ad, false},
		{"tampered ciphertext", flip(versionLength + 12 + 2), ad, false},
		{"tampered tag", flip(len(ct) - 1), ad, false},
		{"truncated", ct[:len(ct)-1], ad, false},
		{"only version and nonce", ct[:versionLength+12], ad, false},
		{"empty", nil, ad, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pt, err := a.Open(tt.ct, tt.ad)
			if tt.ok {
				if err != nil || !bytes.Equal(pt, plaintext) {
					t.Fatalf("Open = %q, %v; want the plaintext", pt, err)
				}
				return
			}
			if !errors.Is(err, ErrDecrypt) || pt != nil {
				t.Fatalf("Open = %q, %v; want ErrDecrypt", pt, err)
			}
		})
	}
}

func TestAEADEmptyPlaintext(t *testing.T) {
	a := mustKeyring(t, secretA).AEAD(PurposeCookie)
	ct, err := a.Seal(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	pt, err := a.Open(ct, nil)
	if err != nil || len(pt) != 0 {
		t.Fatalf("Open = %q, %v", pt, err)
	}
}

func TestSecretRotation(t *testing.T) {
	before := mustKeyring(t, secretB)
	after := mustKeyring(t, secretA, secretB)
	dropped := mustKeyring(t, secretA)

	ad := AssociatedData("signing_keys", "private_key", "kid1")
	oldCT, err := before.AEAD(PurposeAtRest).Seal([]byte("private"), ad)
	if err != nil {
		t.Fatal(err)
	}
	oldDigest := before.Digester(PurposeClientSecret).Digest([]byte("client-secret"))

	if pt, err := after.AEAD(PurposeAtRest).Open(oldCT, ad); err != nil || string(pt) != "private" {
		t.Fatalf("previous-secret ciphertext after rotation: %q, %v", pt, err)
	}
	if !after.Digester(PurposeClientSecret).Verify(oldDigest, []byte("client-secret")) {
		t.Fatal("previous-secret digest does not verify after rotation")
	}
	if _, err := dropped.AEAD(PurposeAtRest).Open(oldCT, ad); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("ciphertext of a dropped secret opened: %v", err)
	}
	if dropped.Digester(PurposeClientSecret).Verify(oldDigest, []byte("client-secret")) {
		t.Fatal("digest of a dropped secret verified")
	}

	// New output uses the current secret: a keyring without the previous
	// secret opens it.
	newCT, err := after.AEAD(PurposeAtRest).Seal([]byte("private"), ad)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dropped.AEAD(PurposeAtRest).Open(newCT, ad); err != nil {
		t.Fatalf("ciphertext sealed after rotation needs the old secret: %v", err)
	}
	newDigest := after.Digester(PurposeClientSecret).Digest([]byte("client-secret"))
	if !dropped.Digester(PurposeClientSecret).Verify(newDigest, []byte("client-secret")) {
		t.Fatal("digest made after rotation needs the old secret")
	}
}

func TestDigester(t *testing.T) {
	d := mustKeyring(t, secretA, secretB).Digester(PurposeClientSecret)
	data := []byte("0123456789abcdef0123456789abcdef")
	digest := d.Digest(data)
	if len(digest) != DigestLength {
		t.Fatalf("len = %d, want %d", len(digest), DigestLength)
	}
	if !bytes.Equal(digest, d.Digest(data)) {
		t.Fatal("digest is not deterministic")
	}
	tampered := bytes.Clone(digest)
	tampered[len(tampered)-1] ^= 1
	tests := []struct {
		name         string
		digest, data []byte
		want         bool
	}{
		{"match", digest, data, true},
		{"other data", digest, []byte("0123456789abcdef0123456789abcdeX"), false},
		{"tampered", tampered, data, false},
		{"truncated", digest[:len(digest)-1], data, false},
		{"without version", digest[versionLength:], data, false},
		{"empty", nil, data, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := d.Verify(tt.digest, tt.data); got != tt.want {
				t.Fatalf("Verify = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestAssociatedDataIsUnambiguous(t *testing.T) {
	triples := [][3]string{
		{"ab", "c", "d"},
		{"a", "bc", "d"},
		{"a", "b", "cd"},
		{"", "abc", "d"},
		{"abcd", "", ""},
	}
	seen := map[string][3]string{}
	for _, tr := range triples {
		ad := string(AssociatedData(tr[0], tr[1], tr[2]))
		if other, dup := seen[ad]; dup {
			t.Fatalf("%q and %q encode alike", tr, other)
		}
		seen[ad] = tr
	}
}

func TestKeyReturnsCopies(t *testing.T) {
	k := mustKeyring(t, secretA)
	key := k.Key(PurposeCookie)
	key[0] ^= 0xff
	if bytes.Equal(key, k.Key(PurposeCookie)) {
		t.Fatal("Key exposes the keyring's internal key")
	}
}
