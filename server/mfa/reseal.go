package mfa

import (
	"context"
	"fmt"

	"github.com/gatehouse/gatehouse/server/secret"
	"github.com/gatehouse/gatehouse/storage"
)

// Reseal re-encrypts every TOTP secret, active and pending, with the current
// key of sealer (which must still open the old ciphertexts, e.g. through
// GATEHOUSE_SECRET_OLD). It returns the number of secrets rewritten.
func Reseal(ctx context.Context, store storage.TOTPResealer, sealer *secret.AEAD) (int, error) {
	return store.ResealTOTPSecrets(ctx, func(kind, userID string, sealed []byte) ([]byte, error) {
		ad := credentialAD(userID)
		if kind == storage.TOTPEnrollmentSecret {
			ad = enrollmentAD(userID)
		}
		plain, err := sealer.Open(sealed, ad)
		if err != nil {
			return nil, fmt.Errorf("open TOTP secret: %w", err)
		}
		defer clear(plain)
		return sealer.Seal(plain, ad)
	})
}
