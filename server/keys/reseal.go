package keys

import (
	"context"
	"fmt"

	"github.com/gatehouse/gatehouse/server/secret"
	"github.com/gatehouse/gatehouse/storage"
)

// Reseal re-encrypts every signing key's private key, retired ones included,
// with the current key of sealer (which must still open the old ciphertexts,
// e.g. through GATEHOUSE_SECRET_OLD). It returns the number of keys
// rewritten. Running servers keep their keys in memory and are unaffected.
func Reseal(ctx context.Context, store storage.SigningKeys, sealer *secret.AEAD) (int, error) {
	list, err := store.ListSigningKeys(ctx)
	if err != nil {
		return 0, fmt.Errorf("list signing keys: %w", err)
	}
	n := 0
	for _, k := range list {
		err := store.UpdateSigningKey(ctx, k.KID, func(k *storage.SigningKey) error {
			der, err := sealer.Open(k.PrivateKeyCiphertext, privateKeyAD(k.KID))
			if err != nil {
				return fmt.Errorf("open private key: %w", err)
			}
			defer clear(der)
			sealed, err := sealer.Seal(der, privateKeyAD(k.KID))
			if err != nil {
				return fmt.Errorf("seal private key: %w", err)
			}
			k.PrivateKeyCiphertext = sealed
			return nil
		})
		if err != nil {
			return n, fmt.Errorf("reseal signing key %q: %w", k.KID, err)
		}
		n++
	}
	return n, nil
}
