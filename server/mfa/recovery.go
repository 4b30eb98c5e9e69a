package mfa

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/server/credential"
	"github.com/gatehouse/gatehouse/storage"
)

// Recovery codes: RecoveryCodeCount codes of recoveryCodeLength characters
// from a 32-letter alphabet without look-alikes (0/O, 1/I), that is 60
// bits each, shown as XXXX-XXXX-XXXX.
const (
	RecoveryCodeCount  = 10
	recoveryCodeLength = 12
	recoveryAlphabet   = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
	recoveryIDBytes    = 12
)

// newRecoveryCode returns a code in its normalized form (no separators).
func newRecoveryCode() (string, error) {
	b := make([]byte, recoveryCodeLength)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate recovery code: %w", err)
	}
	for i := range b {
		// 256 is a multiple of 32: every letter is equally likely.
		b[i] = recoveryAlphabet[int(b[i])%len(recoveryAlphabet)]
	}
	return string(b), nil
}

// formatRecoveryCode groups a normalized code for display.
func formatRecoveryCode(c string) string {
	return c[:4] + "-" + c[4:8] + "-" + c[8:]
}

// normalizeRecoveryCode accepts what a person types: any case, spaces and
// hyphens. false when it cannot be a recovery code.
func normalizeRecoveryCode(input string) (string, bool) {
	c := strings.ToUpper(strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, input))
	if len(c) != recoveryCodeLength {
		return "", false
	}
	for i := 0; i < len(c); i++ {
		if !strings.ContainsRune(recoveryAlphabet, rune(c[i])) {
			return "", false
		}
	}
	return c, true
}

// recoveryDigestInput binds a code to its user, so that a digest copied to
// another user's rows does not verify there.
func recoveryDigestInput(userID, code string) []byte {
	return []byte("gatehouse/recovery-code/v1\x00" + userID + "\x00" + code)
}

// newRecoveryCodes returns a fresh set: the records to store and the codes
// to show (once).
func (s *Service) newRecoveryCodes(userID string, now time.Time) ([]*storage.RecoveryCode, []string, error) {
	records := make([]*storage.RecoveryCode, RecoveryCodeCount)
	shown := make([]string, RecoveryCodeCount)
	for i := range records {
		c, err := newRecoveryCode()
		if err != nil {
			return nil, nil, err
		}
		records[i] = &storage.RecoveryCode{
			ID:        credential.RandomID(recoveryIDBytes),
			UserID:    userID,
			Digest:    s.cfg.Digester.Digest(recoveryDigestInput(userID, c)),
			CreatedAt: now,
		}
		shown[i] = formatRecoveryCode(c)
	}
	return records, shown, nil
}

// RegenerateRecoveryCodes replaces the user's recovery codes with a new set
// and returns it (to be shown once). The caller checks the password and a
// code first.
func (s *Service) RegenerateRecoveryCodes(ctx context.Context, userID string) ([]string, error) {
	enrolled, err := s.Enrolled(ctx, userID)
	if err != nil {
		return nil, err
	}
	if !enrolled {
		return nil, ErrNotEnrolled
	}
	records, shown, err := s.newRecoveryCodes(userID, s.now())
	if err != nil {
		return nil, err
	}
	if err := s.cfg.Store.ReplaceRecoveryCodes(ctx, userID, records); err != nil {
		return nil, fmt.Errorf("replace recovery codes: %w", err)
	}
	return shown, nil
}

// useRecoveryCode checks code against every unused code of the user (each
// comparison in constant time, all of them every time) and uses up the
// match.
func (s *Service) useRecoveryCode(ctx context.Context, userID, code string) error {
	codes, err := s.cfg.Store.ListRecoveryCodes(ctx, userID)
	if err != nil {
		return fmt.Errorf("load recovery codes: %w", err)
	}
	input := recoveryDigestInput(userID, code)
	var match *storage.RecoveryCode
	for _, rc := range codes {
		if s.cfg.Digester.Verify(rc.Digest, input) && rc.UsedAt.IsZero() {
			match = rc
		}
	}
	if match == nil {
		return ErrInvalidCode
	}
	ok, err := s.cfg.Store.UseRecoveryCode(ctx, userID, match.ID, s.now())
	if err != nil {
		return fmt.Errorf("use recovery code: %w", err)
	}
	if !ok {
		// Used by a concurrent request a moment ago.
		return ErrCodeUsed
	}
	return nil
}
