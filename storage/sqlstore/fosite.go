package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/oauth2"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/fosite/handler/pkce"
	fositestorage "github.com/ory/fosite/storage"

	"github.com/gatehouse/gatehouse/storage"
)

// The fosite storage interfaces, asserted here so that a missing method
// fails the build rather than compose at start-up.
var (
	_ fosite.ClientManager               = (*Store)(nil)
	_ oauth2.CoreStorage                 = (*Store)(nil)
	_ oauth2.TokenRevocationStorage      = (*Store)(nil)
	_ openid.OpenIDConnectRequestStorage = (*Store)(nil)
	_ pkce.PKCERequestStorage            = (*Store)(nil)
	_ fositestorage.Transactional        = (*Store)(nil)
)

// CreateAuthorizeCodeSession stores the request of an authorization code.
func (s *Store) CreateAuthorizeCodeSession(ctx context.Context, signature string, r fosite.Requester) error {
	exp := expiryOf(r.GetSession(), fosite.AuthorizeCode, retainUntil())
	return s.createRequest(ctx, "create authorization code", tableAuthorizeCodes, digest(signature), r, exp, "")
}

// GetAuthorizeCodeSession returns the request of a code; for a used code it
// returns the request together with fosite.ErrInvalidatedAuthorizeCode, which
// fosite needs to revoke the tokens issued from it.
//
// With a storage.CodeMemo in ctx, an active code is read from the database
// once per token request and decoded again from the memo the second time.
func (s *Store) GetAuthorizeCodeSession(ctx context.Context, signature string, session fosite.Session) (fosite.Requester, error) {
	const op = "get authorization code"
	key := digest(signature)
	memo := storage.CodeMemoFrom(ctx)
	row, ok := memoizedCode(memo, key)
	if !ok {
		m, client, err := s.findRequestWithClient(ctx, op, tableAuthorizeCodes, key)
		if err != nil {
			return nil, err
		}
		row = codeRow{m, client}
		if memo != nil && m.Active {
			memo.Key, memo.Row = key, row
		}
	}
	req, active, err := decodeRow(op, row.request, row.client, session)
	if err != nil {
		return nil, err
	}
	if !active {
		return req, fmt.Errorf("%s: %w", op, fosite.ErrInvalidatedAuthorizeCode)
	}
	return req, nil
}

// codeRow is an authorization code's row as a storage.CodeMemo holds it.
type codeRow struct {
	request *requestModel
	client  *storage.Client
}

func memoizedCode(memo *storage.CodeMemo, key string) (codeRow, bool) {
	if memo == nil || memo.Key != key {
		return codeRow{}, false
	}
	row, ok := memo.Row.(codeRow)
	return row, ok
}

// InvalidateAuthorizeCodeSession marks a code used. The update is
// conditional, so of two concurrent exchanges of one code exactly one
// succeeds; the other gets fosite.ErrInvalidatedAuthorizeCode (and
// storage.ErrConflict).
func (s *Store) InvalidateAuthorizeCodeSession(ctx context.Context, signature string) error {
	const op = "invalidate authorization code"
	key := digest(signature)
	updated, err := s.execRow(ctx, op, "UPDATE "+tableAuthorizeCodes+" SET active = ? WHERE signature = ? AND active = ?", false, key, true)
	if err != nil {
		return err
	}
	if updated == 1 {
		return nil
	}
	var n int64
	if err := s.conn(ctx).Table(tableAuthorizeCodes).Where("signature = ?", key).Count(&n).Error; err != nil {
		return classify(op, err)
	}
	if n == 0 {
		return notFound(op)
	}
	return fmt.Errorf("%s: %w: %w", op, storage.ErrConflict, fosite.ErrInvalidatedAuthorizeCode)
}

// CreateAccessTokenSession stores the request of an opaque access token.
func (s *Store) CreateAccessTokenSession(ctx context.Context, signature string, r fosite.Requester) error {
	exp := expiryOf(r.GetSession(), fosite.AccessToken, retainUntil())
	return s.createRequest(ctx, "create access token", tableAccessTokens, digest(signature), r, exp, "")
}

// GetAccessTokenSession returns the request of an access token.
func (s *Store) GetAccessTokenSession(ctx context.Context, signature string, session fosite.Session) (fosite.Requester, error) {
	const op = "get access token"
	req, active, err := s.getRequest(ctx, op, tableAccessTokens, digest(signature), session)
	if err != nil {
		return nil, err
	}
	if !active {
		return req, fmt.Errorf("%s: %w", op, fosite.ErrInactiveToken)
	}
	return req, nil
}

// DeleteAccessTokenSession deletes an access token.
func (s *Store) DeleteAccessTokenSession(ctx context.Context, signature string) error {
	return s.deleteRequest(ctx, "delete access token", tableAccessTokens, digest(signature))
}

// CreateRefreshTokenSession stores the request of a refresh token. A session
// without a refresh-token expiry gives a row that never expires.
func (s *Store) CreateRefreshTokenSession(ctx context.Context, signature, accessSignature string, r fosite.Requester) error {
	accessKey := ""
	if accessSignature != "" {
		accessKey = digest(accessSignature)
	}
	exp := expiryOf(r.GetSession(), fosite.RefreshToken, nil)
	return s.createRequest(ctx, "create refresh token", tableRefreshTokens, digest(signature), r, exp, accessKey)
}

// GetRefreshTokenSession returns the request of a refresh token; for a used
// or revoked token it returns the request together with
// fosite.ErrInactiveToken, on which fosite revokes the whole family.
func (s *Store) GetRefreshTokenSession(ctx context.Context, signature string, session fosite.Session) (fosite.Requester, error) {
	const op = "get refresh token"
	req, active, err := s.getRequest(ctx, op, tableRefreshTokens, digest(signature), session)
	if err != nil {
		return nil, err
	}
	if !active {
		inGrace, err := s.rotatedWithinGrace(ctx, digest(signature))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		if !inGrace {
			return req, fmt.Errorf("%s: %w", op, fosite.ErrInactiveToken)
		}
	}
	return req, nil
}

// rotatedWithinGrace reports whether a refresh token was rotated (not
// revoked) less than the grace period ago.
func (s *Store) rotatedWithinGrace(ctx context.Context, key string) (bool, error) {
	if s.grace <= 0 {
		return false, nil
	}
	var row struct{ RotatedAt *time.Time }
	err := s.conn(ctx).Table(tableRefreshTokens).Select("rotated_at").Where("signature = ?", key).Take(&row).Error
	if err != nil {
		return false, classify("read rotation time", err)
	}
	return row.RotatedAt != nil && s.now().Sub(*row.RotatedAt) <= s.grace, nil
}

// DeleteRefreshTokenSession deletes a refresh token.
func (s *Store) DeleteRefreshTokenSession(ctx context.Context, signature string) error {
	return s.deleteRequest(ctx, "delete refresh token", tableRefreshTokens, digest(signature))
}

// RotateRefreshToken marks the used refresh token inactive (the row stays,
// so that a reuse is recognized) and deletes the access tokens of its
// request. The update is conditional: when another request rotated the token
// first, it returns fosite.ErrSerializationFailure (and storage.ErrConflict).
//
// With a refresh grace period, a token rotated less than the period ago may
// be rotated again (another tab of the same app), and only the access token
// issued with the used refresh token is deleted, so that the tab that
// rotated first keeps its new access token.
func (s *Store) RotateRefreshToken(ctx context.Context, requestID, signature string) error {
	const op = "rotate refresh token"
	key := digest(signature)
	return s.inTx(ctx, func(ctx context.Context) error {
		n, err := s.execRow(ctx, op, "UPDATE "+tableRefreshTokens+" SET active = ?, rotated_at = ? WHERE signature = ? AND request_id = ? AND active = ?",
			false, s.now().UTC().Truncate(time.Microsecond), key, requestID, true)
		if err != nil {
			return err
		}
		if n == 0 {
			inGrace, err := s.rotatedWithinGrace(ctx, key)
			if err != nil {
				return fmt.Errorf("%s: %w", op, err)
			}
			if !inGrace {
				return fmt.Errorf("%s: %w: %w", op, storage.ErrConflict, fosite.ErrSerializationFailure)
			}
		}
		if s.grace <= 0 {
			return s.execLater(ctx, op, "DELETE FROM "+tableAccessTokens+" WHERE request_id = ?", requestID)
		}
		var row struct{ AccessSignature string }
		if err := s.conn(ctx).Table(tableRefreshTokens).Select("access_signature").Where("signature = ?", key).Take(&row).Error; err != nil {
			return classify(op, err)
		}
		return s.execLater(ctx, op, "DELETE FROM "+tableAccessTokens+" WHERE signature = ?", row.AccessSignature)
	})
}

// RevokeRefreshToken marks every refresh token of a request (one grant, all
// its rotations) inactive. Rows are kept so that a later use of any of them
// still reads as reuse rather than as an unknown token.
func (s *Store) RevokeRefreshToken(ctx context.Context, requestID string) error {
	// rotated_at is cleared too: a revoked token gets no grace period.
	err := s.conn(ctx).Table(tableRefreshTokens).
		Where("request_id = ? AND (active = ? OR rotated_at IS NOT NULL)", requestID, true).
		Updates(map[string]any{"active": false, "rotated_at": nil}).Error
	return classify("revoke refresh tokens", err)
}

// RevokeAccessToken deletes every access token of a request.
func (s *Store) RevokeAccessToken(ctx context.Context, requestID string) error {
	return s.execLater(ctx, "revoke access tokens", "DELETE FROM "+tableAccessTokens+" WHERE request_id = ?", requestID)
}

// RevokeSubjectTokens revokes every access and refresh token issued to a
// subject and invalidates their unused authorization codes.
func (s *Store) RevokeSubjectTokens(ctx context.Context, subject string) error {
	const op = "revoke tokens of subject"
	if subject == "" {
		// Client-credentials tokens have no subject; never revoke them all.
		return fmt.Errorf("%s: empty subject", op)
	}
	return s.inTx(ctx, func(ctx context.Context) error {
		db := s.conn(ctx)
		if err := db.Table(tableAccessTokens).Where("subject = ?", subject).Delete(&requestModel{}).Error; err != nil {
			return classify(op, err)
		}
		err := db.Table(tableRefreshTokens).Where("subject = ? AND (active = ? OR rotated_at IS NOT NULL)", subject, true).
			Updates(map[string]any{"active": false, "rotated_at": nil}).Error
		if err != nil {
			return classify(op, err)
		}
		err = db.Table(tableAuthorizeCodes).Where("subject = ? AND active = ?", subject, true).Update("active", false).Error
		return classify(op, err)
	})
}

// CreateOpenIDConnectSession stores the OpenID Connect request of a code.
// fosite passes the raw authorization code here, so the key is its digest
// like every other key.
func (s *Store) CreateOpenIDConnectSession(ctx context.Context, authorizeCode string, r fosite.Requester) error {
	exp := expiryOf(r.GetSession(), fosite.AuthorizeCode, retainUntil())
	return s.createRequest(ctx, "create openid connect session", tableOIDCSessions, digest(authorizeCode), r, exp, "")
}

// GetOpenIDConnectSession returns the OpenID Connect request of a code,
// decoding its session into the session of requester.
func (s *Store) GetOpenIDConnectSession(ctx context.Context, authorizeCode string, requester fosite.Requester) (fosite.Requester, error) {
	var session fosite.Session
	if requester != nil {
		session = requester.GetSession()
	}
	req, _, err := s.getRequest(ctx, "get openid connect session", tableOIDCSessions, digest(authorizeCode), session)
	if err != nil {
		return nil, err
	}
	return req, nil
}

// DeleteOpenIDConnectSession deletes the OpenID Connect request of a code.
func (s *Store) DeleteOpenIDConnectSession(ctx context.Context, authorizeCode string) error {
	return s.deleteRequest(ctx, "delete openid connect session", tableOIDCSessions, digest(authorizeCode))
}

// CreatePKCERequestSession stores the PKCE request (code challenge) of a code.
func (s *Store) CreatePKCERequestSession(ctx context.Context, signature string, r fosite.Requester) error {
	exp := expiryOf(r.GetSession(), fosite.AuthorizeCode, retainUntil())
	return s.createRequest(ctx, "create pkce request", tablePKCERequests, digest(signature), r, exp, "")
}

// GetPKCERequestSession returns the PKCE request of a code.
func (s *Store) GetPKCERequestSession(ctx context.Context, signature string, session fosite.Session) (fosite.Requester, error) {
	req, _, err := s.getRequest(ctx, "get pkce request", tablePKCERequests, digest(signature), session)
	if err != nil {
		return nil, err
	}
	return req, nil
}

// DeletePKCERequestSession deletes the PKCE request of a code.
func (s *Store) DeletePKCERequestSession(ctx context.Context, signature string) error {
	return s.deleteRequest(ctx, "delete pkce request", tablePKCERequests, digest(signature))
}
