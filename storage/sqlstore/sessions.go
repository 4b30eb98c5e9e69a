package sqlstore

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm/clause"

	"github.com/gatehouse/gatehouse/storage"
)

// Browser session and pending-request ids are digests of cookie secrets or
// server-side handles; they stay out of error texts all the same.

func browserSessionToModel(b *storage.BrowserSession) browserSessionModel {
	return browserSessionModel{
		ID:         b.ID,
		SID:        b.SID,
		UserID:     b.UserID,
		AuthTime:   utc(b.AuthTime),
		AMR:        b.AMR,
		CreatedAt:  utc(b.CreatedAt),
		LastSeenAt: utc(b.LastSeenAt),
		ExpiresAt:  utc(b.ExpiresAt),
	}
}

func (m *browserSessionModel) record() *storage.BrowserSession {
	return &storage.BrowserSession{
		ID:         m.ID,
		SID:        m.SID,
		UserID:     m.UserID,
		AuthTime:   m.AuthTime.UTC(),
		AMR:        m.AMR,
		CreatedAt:  m.CreatedAt.UTC(),
		LastSeenAt: m.LastSeenAt.UTC(),
		ExpiresAt:  m.ExpiresAt.UTC(),
	}
}

// CreateBrowserSession stores a new browser session; CreatedAt and
// LastSeenAt default to now.
func (s *Store) CreateBrowserSession(ctx context.Context, b *storage.BrowserSession) error {
	if b.ID == "" || b.SID == "" || b.UserID == "" {
		return errors.New("create browser session: empty id, sid or user id")
	}
	m := browserSessionToModel(b)
	if m.CreatedAt.IsZero() {
		m.CreatedAt = utc(time.Now())
	}
	if m.LastSeenAt.IsZero() {
		m.LastSeenAt = m.CreatedAt
	}
	if err := s.conn(ctx).Create(&m).Error; err != nil {
		return classify("create browser session", err)
	}
	b.CreatedAt, b.LastSeenAt = m.CreatedAt, m.LastSeenAt
	return nil
}

// browserSessionFilter selects an unexpired session by id (FindBrowserSession
// and the prefetch); parameters: the id, now.
const browserSessionFilter = "id = ? AND expires_at > ?"

// consentFilterFor selects the unexpired consent of the user whose id is
// user (an SQL expression) to a client (FindConsent and the prefetch);
// parameters: the user's, the client id, now.
func consentFilterFor(user string) string {
	return "user_id = " + user + " AND client_id = ? AND (expires_at IS NULL OR expires_at > ?)"
}

// FindBrowserSession returns the session unless it is unknown or expired.
func (s *Store) FindBrowserSession(ctx context.Context, id string) (*storage.BrowserSession, error) {
	if b, ok := prefetchedFrom(ctx).takeSession(id); ok {
		if b == nil {
			return nil, notFound("find browser session")
		}
		return b, nil
	}
	var m browserSessionModel
	err := s.conn(ctx).Where(browserSessionFilter, id, utc(time.Now())).Take(&m).Error
	if err != nil {
		return nil, classify("find browser session", err)
	}
	return m.record(), nil
}

// ListUserBrowserSessions returns the user's unexpired sessions, newest first.
func (s *Store) ListUserBrowserSessions(ctx context.Context, userID string) ([]*storage.BrowserSession, error) {
	var ms []browserSessionModel
	err := s.conn(ctx).Where("user_id = ? AND expires_at > ?", userID, utc(time.Now())).
		Order("created_at DESC").Find(&ms).Error
	if err != nil {
		return nil, classify("list browser sessions", err)
	}
	out := make([]*storage.BrowserSession, len(ms))
	for i := range ms {
		out[i] = ms[i].record()
	}
	return out, nil
}

// UpdateBrowserSession loads the session (expired or not), applies fn and
// saves it in one transaction. fn may not change the id.
func (s *Store) UpdateBrowserSession(ctx context.Context, id string, fn func(*storage.BrowserSession) error) error {
	return s.inTx(ctx, func(ctx context.Context) error {
		var m browserSessionModel
		if err := s.forUpdate(s.conn(ctx)).Where("id = ?", id).Take(&m).Error; err != nil {
			return classify("update browser session", err)
		}
		b := m.record()
		if err := fn(b); err != nil {
			return err
		}
		if b.ID != id {
			return errors.New("update browser session: the id cannot change")
		}
		next := browserSessionToModel(b)
		err := s.conn(ctx).Model(&browserSessionModel{}).Where("id = ?", id).Select("*").Updates(&next).Error
		return classify("update browser session", err)
	})
}

// DeleteBrowserSession deletes one session; deleting an unknown session is
// not an error (logout is idempotent).
func (s *Store) DeleteBrowserSession(ctx context.Context, id string) error {
	err := s.conn(ctx).Where("id = ?", id).Delete(&browserSessionModel{}).Error
	return classify("delete browser session", err)
}

// DeleteUserBrowserSessions ends every session of a user.
func (s *Store) DeleteUserBrowserSessions(ctx context.Context, userID string) error {
	err := s.conn(ctx).Where("user_id = ?", userID).Delete(&browserSessionModel{}).Error
	return classify("delete browser sessions of user", err)
}

func authRequestToModel(r *storage.AuthRequest) authRequestModel {
	return authRequestModel{
		ID:            r.ID,
		BindingDigest: r.BindingDigest,
		ClientID:      r.ClientID,
		Query:         r.Query,
		UserID:        stringPtr(r.UserID),
		AuthTime:      timePtr(r.AuthTime),
		AMR:           r.AMR,
		ConsentGiven:  r.ConsentGiven,
		CreatedAt:     utc(r.CreatedAt),
		ExpiresAt:     utc(r.ExpiresAt),
	}
}

func (m *authRequestModel) record() *storage.AuthRequest {
	return &storage.AuthRequest{
		ID:            m.ID,
		BindingDigest: m.BindingDigest,
		ClientID:      m.ClientID,
		Query:         m.Query,
		UserID:        stringOf(m.UserID),
		AuthTime:      timeOf(m.AuthTime),
		AMR:           m.AMR,
		ConsentGiven:  m.ConsentGiven,
		CreatedAt:     m.CreatedAt.UTC(),
		ExpiresAt:     m.ExpiresAt.UTC(),
	}
}

// CreateAuthRequest stores a pending authorization; CreatedAt defaults to now.
func (s *Store) CreateAuthRequest(ctx context.Context, r *storage.AuthRequest) error {
	if r.ID == "" || r.ClientID == "" {
		return errors.New("create auth request: empty id or client id")
	}
	m := authRequestToModel(r)
	if m.CreatedAt.IsZero() {
		m.CreatedAt = utc(time.Now())
	}
	if err := s.conn(ctx).Create(&m).Error; err != nil {
		return classify("create auth request", err)
	}
	r.CreatedAt = m.CreatedAt
	return nil
}

// FindAuthRequest returns the request unless it is unknown or expired.
func (s *Store) FindAuthRequest(ctx context.Context, id string) (*storage.AuthRequest, error) {
	var m authRequestModel
	err := s.conn(ctx).Where("id = ? AND expires_at > ?", id, utc(time.Now())).Take(&m).Error
	if err != nil {
		return nil, classify("find auth request", err)
	}
	return m.record(), nil
}

// UpdateAuthRequest loads the request (expired or not), applies fn and saves
// it in one transaction. fn may not change the id.
func (s *Store) UpdateAuthRequest(ctx context.Context, id string, fn func(*storage.AuthRequest) error) error {
	return s.inTx(ctx, func(ctx context.Context) error {
		var m authRequestModel
		if err := s.forUpdate(s.conn(ctx)).Where("id = ?", id).Take(&m).Error; err != nil {
			return classify("update auth request", err)
		}
		r := m.record()
		if err := fn(r); err != nil {
			return err
		}
		if r.ID != id {
			return errors.New("update auth request: the id cannot change")
		}
		next := authRequestToModel(r)
		err := s.conn(ctx).Model(&authRequestModel{}).Where("id = ?", id).Select("*").Updates(&next).Error
		return classify("update auth request", err)
	})
}

// DeleteAuthRequest deletes a pending request; unknown ids are not an error.
func (s *Store) DeleteAuthRequest(ctx context.Context, id string) error {
	err := s.conn(ctx).Where("id = ?", id).Delete(&authRequestModel{}).Error
	return classify("delete auth request", err)
}

// FindConsent returns the remembered consent of (userID, clientID) unless
// there is none or it expired. A zero ExpiresAt never expires.
func (s *Store) FindConsent(ctx context.Context, userID, clientID string) (*storage.Consent, error) {
	if c, ok := prefetchedFrom(ctx).takeConsent(userID, clientID); ok {
		if c == nil {
			return nil, notFound("find consent")
		}
		return c, nil
	}
	var m consentModel
	err := s.conn(ctx).Where(consentFilterFor("?"), userID, clientID, utc(time.Now())).Take(&m).Error
	if err != nil {
		return nil, classify("find consent", err)
	}
	return m.record(), nil
}

func (m *consentModel) record() *storage.Consent {
	return &storage.Consent{
		UserID:    m.UserID,
		ClientID:  m.ClientID,
		Scopes:    m.Scopes,
		GrantedAt: m.GrantedAt.UTC(),
		ExpiresAt: timeOf(m.ExpiresAt),
	}
}

// ListUserConsents returns the user's unexpired consents.
func (s *Store) ListUserConsents(ctx context.Context, userID string) ([]*storage.Consent, error) {
	var ms []consentModel
	err := s.conn(ctx).
		Where("user_id = ? AND (expires_at IS NULL OR expires_at > ?)", userID, utc(time.Now())).
		Order("client_id").Find(&ms).Error
	if err != nil {
		return nil, classify("list consents", err)
	}
	out := make([]*storage.Consent, len(ms))
	for i := range ms {
		out[i] = ms[i].record()
	}
	return out, nil
}

// SaveConsent creates or replaces the consent of (UserID, ClientID).
func (s *Store) SaveConsent(ctx context.Context, c *storage.Consent) error {
	if c.UserID == "" || c.ClientID == "" {
		return errors.New("save consent: empty user or client id")
	}
	m := consentModel{
		UserID:    c.UserID,
		ClientID:  c.ClientID,
		Scopes:    c.Scopes,
		GrantedAt: utc(c.GrantedAt),
		ExpiresAt: timePtr(c.ExpiresAt),
	}
	if m.GrantedAt.IsZero() {
		m.GrantedAt = utc(time.Now())
	}
	err := s.conn(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "user_id"}, {Name: "client_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"scopes", "granted_at", "expires_at"}),
	}).Create(&m).Error
	if err != nil {
		return classify("save consent", err)
	}
	c.GrantedAt = m.GrantedAt
	return nil
}

// DeleteConsent forgets a consent; an unknown pair is not an error.
func (s *Store) DeleteConsent(ctx context.Context, userID, clientID string) error {
	err := s.conn(ctx).Where("user_id = ? AND client_id = ?", userID, clientID).Delete(&consentModel{}).Error
	return classify("delete consent", err)
}
