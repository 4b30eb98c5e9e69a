package sqlstore

import (
	"context"
	"fmt"

	"github.com/gatehouse/gatehouse/storage"
)

var _ storage.TOTPResealer = (*Store)(nil)

// ResealTOTPSecrets rewrites every active and pending TOTP secret with fn.
// Each row is updated only if its ciphertext is still the one fn saw, so a
// user who enrolls again meanwhile keeps the new secret.
func (s *Store) ResealTOTPSecrets(ctx context.Context, fn func(kind, userID string, sealed []byte) ([]byte, error)) (int, error) {
	n := 0
	for _, t := range []struct{ kind, table string }{
		{storage.TOTPCredentialSecret, "totp_credentials"},
		{storage.TOTPEnrollmentSecret, "totp_enrollments"},
	} {
		var rows []struct {
			UserID           string
			SecretCiphertext []byte
		}
		if err := s.conn(ctx).Raw("SELECT user_id, secret_ciphertext FROM " + t.table).Scan(&rows).Error; err != nil {
			return n, classify("list "+t.table, err)
		}
		for _, r := range rows {
			resealed, err := fn(t.kind, r.UserID, r.SecretCiphertext)
			if err != nil {
				return n, fmt.Errorf("reseal %s of user %q: %w", t.kind, r.UserID, err)
			}
			res := s.conn(ctx).Exec("UPDATE "+t.table+" SET secret_ciphertext = ? WHERE user_id = ? AND secret_ciphertext = ?",
				resealed, r.UserID, r.SecretCiphertext)
			if res.Error != nil {
				return n, classify("update "+t.table, res.Error)
			}
			n += int(res.RowsAffected)
		}
	}
	return n, nil
}
