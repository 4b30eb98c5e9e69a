package keys

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/gatehouse/gatehouse/server/credential"
	"github.com/gatehouse/gatehouse/server/secret"
	"github.com/gatehouse/gatehouse/storage"
)

const rsaBits = 2048

// keySet is an immutable snapshot of the published keys, swapped whole on
// every reload so readers never lock.
type keySet struct {
	// records are the non-retired keys, oldest first.
	records []*storage.SigningKey
	byKID   map[string]*loadedKey
	jwks    []byte
}

// loadedKey is a published key in memory.
type loadedKey struct {
	rec    *storage.SigningKey
	public jose.JSONWebKey
	// private is nil when the key could not be opened; it is then published
	// but cannot sign.
	private crypto.Signer
}

func emptyKeySet() *keySet {
	return &keySet{byKID: map[string]*loadedKey{}, jwks: []byte(`{"keys":[]}`)}
}

// privateKeyAD binds a sealed private key to its row.
func privateKeyAD(kid string) []byte {
	return secret.AssociatedData("signing_keys", "private_key", kid)
}

// Reload reads every key from the database and replaces the in-memory set.
// Keys that cannot be read stay out (bad public key) or cannot sign (private
// key that does not open); the others are installed and the error names the
// failed kids.
func (m *Manager) Reload(ctx context.Context) error {
	m.reloadMu.Lock()
	defer m.reloadMu.Unlock()
	recs, err := m.store.ListSigningKeys(ctx)
	if err != nil {
		return fmt.Errorf("reload signing keys: %w", err)
	}
	prev := m.state.Load()
	set := &keySet{byKID: make(map[string]*loadedKey, len(recs))}
	var errs []error
	for _, r := range recs {
		if r.RetiredAt != nil {
			continue
		}
		rec := *r
		rec.PrivateKeyCiphertext = nil // keep no more than needed in memory
		if old, ok := prev.byKID[r.KID]; ok && old.private != nil {
			// Keys never change but for retirement: reuse the opened key.
			set.add(&loadedKey{rec: &rec, public: old.public, private: old.private})
			continue
		}
		k, err := m.open(r)
		if k == nil {
			errs = append(errs, err)
			continue
		}
		k.rec = &rec
		set.add(k)
		if err != nil {
			errs = append(errs, err)
		}
	}
	if set.jwks, err = json.Marshal(set.jwkSet()); err != nil {
		return fmt.Errorf("reload signing keys: encode JWKS: %w", err)
	}
	m.state.Store(set)
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("reload signing keys: %w", err)
	}
	return nil
}

func (s *keySet) add(k *loadedKey) {
	s.records = append(s.records, k.rec)
	s.byKID[k.rec.KID] = k
}

// open parses the public key and opens the private key of r. It returns a
// nil key when the public key is unusable, and a key without private part
// plus an error when only the private key is.
func (m *Manager) open(r *storage.SigningKey) (*loadedKey, error) {
	var pub jose.JSONWebKey
	if err := pub.UnmarshalJSON(r.PublicJWK); err != nil {
		return nil, fmt.Errorf("key %q: public JWK: %w", r.KID, err)
	}
	if !pub.IsPublic() || pub.KeyID != r.KID || pub.Algorithm != r.Alg || !supported(r.Alg) {
		return nil, fmt.Errorf("key %q: public JWK does not match its row", r.KID)
	}
	k := &loadedKey{public: pub}
	der, err := m.sealer.Open(r.PrivateKeyCiphertext, privateKeyAD(r.KID))
	if err != nil {
		return k, fmt.Errorf("key %q: open private key (was the system secret changed without keeping the old one?): %w", r.KID, err)
	}
	defer clear(der)
	priv, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return k, fmt.Errorf("key %q: parse private key: %w", r.KID, err)
	}
	signer, ok := priv.(crypto.Signer)
	if !ok || !matchesAlg(signer, r.Alg) || !publicEqual(signer.Public(), pub.Key) {
		return k, fmt.Errorf("key %q: private key does not match its public key and alg", r.KID)
	}
	k.private = signer
	return k, nil
}

func matchesAlg(k crypto.Signer, alg string) bool {
	switch k := k.(type) {
	case *rsa.PrivateKey:
		return alg == AlgRS256 && k.N.BitLen() >= rsaBits
	case *ecdsa.PrivateKey:
		return alg == AlgES256 && k.Curve == elliptic.P256()
	}
	return false
}

// newKey generates a key for alg and its public JWK, named by its RFC 7638
// thumbprint (unique without a registry). Like every generated id, the kid
// never begins with '-' or '_', where a command line would read a flag: a
// key whose thumbprint does is drawn again (1 in 32 draws).
func newKey(alg string) (crypto.Signer, jose.JSONWebKey, error) {
	for {
		var priv crypto.Signer
		var err error
		switch alg {
		case AlgRS256:
			priv, err = rsa.GenerateKey(rand.Reader, rsaBits)
		case AlgES256:
			priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		default:
			return nil, jose.JSONWebKey{}, fmt.Errorf("%w: %q", ErrUnsupportedAlg, alg)
		}
		if err != nil {
			return nil, jose.JSONWebKey{}, fmt.Errorf("generate key: %w", err)
		}
		pub := jose.JSONWebKey{Key: priv.Public(), Algorithm: alg, Use: "sig"}
		thumb, err := pub.Thumbprint(crypto.SHA256)
		if err != nil {
			return nil, jose.JSONWebKey{}, fmt.Errorf("key thumbprint: %w", err)
		}
		if pub.KeyID = base64.RawURLEncoding.EncodeToString(thumb); credential.CommandLineSafe(pub.KeyID) {
			return priv, pub, nil
		}
	}
}

func publicEqual(a, b crypto.PublicKey) bool {
	eq, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && eq.Equal(b)
}

// generate creates a key for alg: the record without times, its private
// key sealed to its kid.
func (m *Manager) generate(alg string) (*storage.SigningKey, error) {
	priv, pub, err := newKey(alg)
	if err != nil {
		return nil, err
	}
	pubJSON, err := pub.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("encode public key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("encode private key: %w", err)
	}
	defer clear(der)
	sealed, err := m.sealer.Seal(der, privateKeyAD(pub.KeyID))
	if err != nil {
		return nil, fmt.Errorf("seal private key: %w", err)
	}
	return &storage.SigningKey{KID: pub.KeyID, Alg: alg, PublicJWK: pubJSON, PrivateKeyCiphertext: sealed}, nil
}
