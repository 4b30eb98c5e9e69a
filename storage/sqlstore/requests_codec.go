package sqlstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/ory/fosite"

	"github.com/gatehouse/gatehouse/storage"
)

// The fosite tables; each row is one fosite.Requester keyed by a digest.
const (
	tableAuthorizeCodes = "oauth2_authorize_codes"
	tableAccessTokens   = "oauth2_access_tokens"
	tableRefreshTokens  = "oauth2_refresh_tokens"
	tableOIDCSessions   = "oauth2_oidc_sessions"
	tablePKCERequests   = "oauth2_pkce_requests"
)

var requestTables = []string{
	tableAuthorizeCodes, tableAccessTokens, tableRefreshTokens, tableOIDCSessions, tablePKCERequests,
}

// defaultRetention is the expiry of a code-bound row whose session carries
// no expiry; fosite checks lifetimes itself, this only bounds how long the
// row is kept.
const defaultRetention = 24 * time.Hour

// sensitiveFormKeys are request parameters that are secrets or credentials
// and are never stored with a request.
var sensitiveFormKeys = []string{
	"client_secret", "client_assertion", "code", "code_verifier", "refresh_token", "password", "token",
}

// digest is the storage key of a code, token signature or jti: SHA-256, hex.
func digest(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// expiryOf returns the expiry the session sets for a token type, or the
// fallback when the session sets none.
func expiryOf(sess fosite.Session, tt fosite.TokenType, fallback *time.Time) *time.Time {
	if sess != nil {
		if exp := sess.GetExpiresAt(tt); !exp.IsZero() {
			return timePtr(exp)
		}
	}
	return fallback
}

func retainUntil() *time.Time { return timePtr(time.Now().Add(defaultRetention)) }

// encodeRequest turns a fosite request into a row keyed by key (already a
// digest).
func encodeRequest(key string, r fosite.Requester, expiresAt *time.Time) (requestModel, error) {
	if r.GetClient() == nil {
		return requestModel{}, errors.New("request has no client")
	}
	sess := r.GetSession()
	data, err := json.Marshal(sess)
	if err != nil {
		return requestModel{}, fmt.Errorf("encode session: %w", err)
	}
	subject := ""
	if sess != nil {
		subject = sess.GetSubject()
	}
	form := url.Values{}
	for k, v := range r.GetRequestForm() {
		form[k] = v
	}
	for _, k := range sensitiveFormKeys {
		form.Del(k)
	}
	return requestModel{
		Signature:       key,
		RequestID:       r.GetID(),
		RequestedAt:     utc(r.GetRequestedAt()),
		ClientID:        r.GetClient().GetID(),
		Subject:         subject,
		Scopes:          stringList(r.GetRequestedScopes()),
		GrantedScopes:   stringList(r.GetGrantedScopes()),
		Audience:        stringList(r.GetRequestedAudience()),
		GrantedAudience: stringList(r.GetGrantedAudience()),
		Form:            form.Encode(),
		SessionData:     data,
		Active:          true,
		ExpiresAt:       expiresAt,
	}, nil
}

// decodeRequest rebuilds the fosite request of a row and its client. The
// session JSON is decoded into session when it is non-nil (revocation passes
// nil and needs only the request id and client).
func decodeRequest(m *requestModel, client *storage.Client, session fosite.Session) (*fosite.Request, error) {
	if session != nil && len(m.SessionData) > 0 {
		if err := json.Unmarshal(m.SessionData, session); err != nil {
			return nil, fmt.Errorf("decode session: %w", err)
		}
	}
	form, err := url.ParseQuery(m.Form)
	if err != nil {
		return nil, fmt.Errorf("decode form: %w", err)
	}
	return &fosite.Request{
		ID:                m.RequestID,
		RequestedAt:       m.RequestedAt.UTC(),
		Client:            client,
		RequestedScope:    fosite.Arguments(m.Scopes),
		GrantedScope:      fosite.Arguments(m.GrantedScopes),
		RequestedAudience: fosite.Arguments(m.Audience),
		GrantedAudience:   fosite.Arguments(m.GrantedAudience),
		Form:              form,
		Session:           session,
	}, nil
}

// createRequest inserts a request row into table.
func (s *Store) createRequest(ctx context.Context, op, table, key string, r fosite.Requester, expiresAt *time.Time, accessKey string) error {
	m, err := encodeRequest(key, r, expiresAt)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if table == tableRefreshTokens {
		m.AccessSignature = accessKey
	}
	return s.insertRequest(ctx, op, table, &m)
}

// getRequest loads a request row and rebuilds its request; active reports
// whether the row is still active.
func (s *Store) getRequest(ctx context.Context, op, table, key string, session fosite.Session) (req *fosite.Request, active bool, err error) {
	m, client, err := s.findRequestWithClient(ctx, op, table, key)
	if err != nil {
		return nil, false, err
	}
	return decodeRow(op, m, client, session)
}

// decodeRow rebuilds the request of a row read with its client; active
// reports whether the row is still active.
func decodeRow(op string, m *requestModel, client *storage.Client, session fosite.Session) (req *fosite.Request, active bool, err error) {
	req, err = decodeRequest(m, client, session)
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w", op, err)
	}
	return req, m.Active, nil
}

// deleteRequest deletes a request row; a missing row is not an error, so
// that fosite's clean-up after a concurrent request does not fail.
func (s *Store) deleteRequest(ctx context.Context, op, table, key string) error {
	return s.execLater(ctx, op, "DELETE FROM "+table+" WHERE signature = ?", key)
}
