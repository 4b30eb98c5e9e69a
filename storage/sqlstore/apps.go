package sqlstore

import (
	"context"
	"time"
)

// LastTokenIssued returns the time of the client's most recent token for the user.
func (s *Store) LastTokenIssued(ctx context.Context, userID, clientID string) (time.Time, error) {
	var last time.Time
	for _, table := range []string{tableAccessTokens, tableRefreshTokens} {
		// ORDER BY + LIMIT rather than MAX(): SQLite returns an aggregate
		// without its column type, as text.
		var rows []struct{ RequestedAt time.Time }
		err := s.conn(ctx).Table(table).Select("requested_at").
			Where("subject = ? AND client_id = ?", userID, clientID).
			Order("requested_at DESC").Limit(1).Find(&rows).Error
		if err != nil {
			return time.Time{}, classify("last token issued", err)
		}
		if len(rows) == 1 && rows[0].RequestedAt.After(last) {
			last = rows[0].RequestedAt.UTC()
		}
	}
	return last, nil
}

// RevokeUserClientTokens revokes one client's tokens for one user.
func (s *Store) RevokeUserClientTokens(ctx context.Context, userID, clientID string) error {
	const op = "revoke tokens of user for client"
	return s.inTx(ctx, func(ctx context.Context) error {
		db := s.conn(ctx)
		if err := db.Table(tableAccessTokens).Where("subject = ? AND client_id = ?", userID, clientID).Delete(&requestModel{}).Error; err != nil {
			return classify(op, err)
		}
		err := db.Table(tableRefreshTokens).Where("subject = ? AND client_id = ? AND (active = ? OR rotated_at IS NOT NULL)", userID, clientID, true).
			Updates(map[string]any{"active": false, "rotated_at": nil}).Error
		if err != nil {
			return classify(op, err)
		}
		err = db.Table(tableAuthorizeCodes).Where("subject = ? AND client_id = ? AND active = ?", userID, clientID, true).Update("active", false).Error
		return classify(op, err)
	})
}

// DeleteOtherBrowserSessions ends every session of the user but one.
func (s *Store) DeleteOtherBrowserSessions(ctx context.Context, userID, keepID string) error {
	err := s.conn(ctx).Where("user_id = ? AND id <> ?", userID, keepID).Delete(&browserSessionModel{}).Error
	return classify("end other sessions", err)
}
