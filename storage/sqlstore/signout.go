package sqlstore

import (
	"context"
	"fmt"
	"time"
)

type sessionClientModel struct {
	SID       string    `gorm:"column:sid;primaryKey"`
	ClientID  string    `gorm:"column:client_id;primaryKey"`
	UserID    string    `gorm:"column:user_id"`
	CreatedAt time.Time `gorm:"column:created_at"`
	ExpiresAt time.Time `gorm:"column:expires_at"`
}

func (sessionClientModel) TableName() string { return "session_clients" }

// RecordSessionClient notes that a session signed a user in to a client.
func (s *Store) RecordSessionClient(ctx context.Context, sid, userID, clientID string, expiresAt time.Time) error {
	return s.execLater(ctx, fmt.Sprintf("record client %q of session", clientID),
		"INSERT INTO session_clients (sid, client_id, user_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?)"+
			" ON CONFLICT (sid, client_id) DO UPDATE SET expires_at = excluded.expires_at",
		sid, clientID, userID, utc(time.Now()), utc(expiresAt))
}

// SessionClients returns the clients a session signed in to.
func (s *Store) SessionClients(ctx context.Context, sid string) ([]string, error) {
	var ids []string
	err := s.conn(ctx).Model(&sessionClientModel{}).Where("sid = ?", sid).Order("client_id").Pluck("client_id", &ids).Error
	if err != nil {
		return nil, classify("clients of session", err)
	}
	return ids, nil
}

// UserSessionClients returns, per session id, the clients of each of the
// user's sessions.
func (s *Store) UserSessionClients(ctx context.Context, userID string) (map[string][]string, error) {
	var ms []sessionClientModel
	if err := s.conn(ctx).Where("user_id = ?", userID).Order("sid, client_id").Find(&ms).Error; err != nil {
		return nil, classify(fmt.Sprintf("session clients of user %q", userID), err)
	}
	out := map[string][]string{}
	for _, m := range ms {
		out[m.SID] = append(out[m.SID], m.ClientID)
	}
	return out, nil
}

// ForgetSessionClients deletes the records of a session.
func (s *Store) ForgetSessionClients(ctx context.Context, sid string) error {
	return classify("forget session clients", s.conn(ctx).Where("sid = ?", sid).Delete(&sessionClientModel{}).Error)
}
