package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ory/fosite"

	"github.com/gatehouse/gatehouse/storage"
)

func clientToModel(c *storage.Client) clientModel {
	return clientModel{
		ID:                          c.ID,
		SecretDigest:                c.SecretDigest,
		RotatedSecretDigest:         c.RotatedSecretDigest,
		RotatedSecretExpiresAt:      utcPtr(c.RotatedSecretExpiresAt),
		RegistrationTokenDigest:     c.RegistrationTokenDigest,
		Name:                        c.Name,
		RedirectURIs:                c.RedirectURIs,
		PostLogoutRedirectURIs:      c.PostLogoutRedirectURIs,
		GrantTypes:                  c.GrantTypes,
		ResponseTypes:               c.ResponseTypes,
		Scopes:                      c.Scopes,
		Audience:                    c.Audience,
		Public:                      c.Public,
		TokenEndpointAuthMethod:     c.TokenEndpointAuthMethod,
		JWKSURI:                     c.JWKSURI,
		JWKS:                        c.JWKS,
		TokenEndpointAuthSigningAlg: c.TokenEndpointAuthSigningAlg,
		SkipConsent:                 c.SkipConsent,
		RequireMFA:                  c.RequireMFA,
		BackchannelLogoutURI:        c.BackchannelLogoutURI,
		IDTokenSigningAlg:           c.IDTokenSigningAlg,
		AccessTokenFormat:           c.AccessTokenFormat,
		CreatedAt:                   utc(c.CreatedAt),
		UpdatedAt:                   utc(c.UpdatedAt),
	}
}

func (m *clientModel) record() *storage.Client {
	return &storage.Client{
		ID:                          m.ID,
		SecretDigest:                m.SecretDigest,
		RotatedSecretDigest:         m.RotatedSecretDigest,
		RotatedSecretExpiresAt:      utcPtr(m.RotatedSecretExpiresAt),
		RegistrationTokenDigest:     m.RegistrationTokenDigest,
		Name:                        m.Name,
		RedirectURIs:                m.RedirectURIs,
		PostLogoutRedirectURIs:      m.PostLogoutRedirectURIs,
		GrantTypes:                  m.GrantTypes,
		ResponseTypes:               m.ResponseTypes,
		Scopes:                      m.Scopes,
		Audience:                    m.Audience,
		Public:                      m.Public,
		TokenEndpointAuthMethod:     m.TokenEndpointAuthMethod,
		JWKSURI:                     m.JWKSURI,
		JWKS:                        m.JWKS,
		TokenEndpointAuthSigningAlg: m.TokenEndpointAuthSigningAlg,
		SkipConsent:                 m.SkipConsent,
		RequireMFA:                  m.RequireMFA,
		BackchannelLogoutURI:        m.BackchannelLogoutURI,
		IDTokenSigningAlg:           m.IDTokenSigningAlg,
		AccessTokenFormat:           m.AccessTokenFormat,
		CreatedAt:                   m.CreatedAt.UTC(),
		UpdatedAt:                   m.UpdatedAt.UTC(),
	}
}

// CreateClient stores a new client; CreatedAt and UpdatedAt default to now.
func (s *Store) CreateClient(ctx context.Context, c *storage.Client) error {
	if c.ID == "" {
		return errors.New("create client: empty id")
	}
	m := clientToModel(c)
	now := utc(time.Now())
	if m.CreatedAt.IsZero() {
		m.CreatedAt = now
	}
	if m.UpdatedAt.IsZero() {
		m.UpdatedAt = m.CreatedAt
	}
	if err := s.conn(ctx).Create(&m).Error; err != nil {
		return classify("create client", err)
	}
	c.CreatedAt, c.UpdatedAt = m.CreatedAt, m.UpdatedAt
	return nil
}

// FindClient returns the client or storage.ErrNotFound.
func (s *Store) FindClient(ctx context.Context, id string) (*storage.Client, error) {
	return s.findClientWithRoles(ctx, id)
}

// GetClient implements fosite.ClientManager; the client is a *storage.Client.
func (s *Store) GetClient(ctx context.Context, id string) (fosite.Client, error) {
	c, err := s.FindClient(ctx, id)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// ListClients returns every client ordered by id.
func (s *Store) ListClients(ctx context.Context) ([]*storage.Client, error) {
	var ms []clientModel
	if err := s.conn(ctx).Order("id").Find(&ms).Error; err != nil {
		return nil, classify("list clients", err)
	}
	out := make([]*storage.Client, len(ms))
	for i := range ms {
		out[i] = ms[i].record()
	}
	return out, nil
}

// UpdateClient loads the client, applies fn and saves it in one transaction;
// UpdatedAt is set to now. fn may not change the id.
func (s *Store) UpdateClient(ctx context.Context, id string, fn func(*storage.Client) error) error {
	return s.inTx(ctx, func(ctx context.Context) error {
		var m clientModel
		if err := s.forUpdate(s.conn(ctx)).Where("id = ?", id).Take(&m).Error; err != nil {
			return classify(fmt.Sprintf("update client %q", id), err)
		}
		c := m.record()
		if err := fn(c); err != nil {
			return err
		}
		if c.ID != id {
			return fmt.Errorf("update client %q: the id cannot change", id)
		}
		c.UpdatedAt = time.Now()
		next := clientToModel(c)
		if err := s.conn(ctx).Model(&clientModel{}).Where("id = ?", id).Select("*").Updates(&next).Error; err != nil {
			return classify(fmt.Sprintf("update client %q", id), err)
		}
		return nil
	})
}

// DeleteClient deletes the client; the schema's cascades delete its
// consents and pending authorization requests with it. Its fosite records
// (codes, tokens) are deleted here: on PostgreSQL those tables have no
// foreign key to clients (migration 00009). A token row inserted
// concurrently is never read, because every read of a token joins its client.
func (s *Store) DeleteClient(ctx context.Context, id string) error {
	op := fmt.Sprintf("delete client %q", id)
	return s.inTx(ctx, func(ctx context.Context) error {
		res := s.conn(ctx).Where("id = ?", id).Delete(&clientModel{})
		if res.Error != nil {
			return classify(op, res.Error)
		}
		if res.RowsAffected == 0 {
			return notFound(op)
		}
		for _, table := range requestTables {
			if err := s.conn(ctx).Table(table).Where("client_id = ?", id).Delete(&requestModel{}).Error; err != nil {
				return classify(op, err)
			}
		}
		return nil
	})
}

// utcPtr is utc for an optional time.
func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := utc(*t)
	return &u
}
