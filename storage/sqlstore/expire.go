package sqlstore

import (
	"context"
	"time"
)

// expiringTables are the tables DeleteExpired cleans, each by expires_at.
// Signing keys and users never expire; NULL expiries (consents, refresh
// tokens without a lifetime) never match.
var expiringTables = append([]string{
	"browser_sessions", "auth_requests", "consents", "client_assertion_jtis", "session_clients",
	"attempt_counters", "sign_in_events", "totp_enrollments",
}, requestTables...)

// DeleteExpired removes every row whose expiry is before now. Each table is
// cleaned by its own statement, so that a long clean-up never holds SQLite's
// write lock for all tables at once. Used refresh tokens are kept until they
// expire: until then a reuse is still recognized.
func (s *Store) DeleteExpired(ctx context.Context, now time.Time) error {
	cutoff := utc(now)
	for _, table := range expiringTables {
		err := s.conn(ctx).Exec("DELETE FROM "+table+" WHERE expires_at < ?", cutoff).Error
		if err != nil {
			return classify("delete expired "+table, err)
		}
	}
	return s.deleteExpiredMailTokens(ctx, now)
}
