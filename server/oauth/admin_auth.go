package oauth

import (
	"context"
	"errors"
	"fmt"

	"github.com/ory/fosite"
)

// ErrInvalidBearer means a bearer token is missing, unknown, expired or
// revoked; its text never contains the token.
var ErrInvalidBearer = errors.New("oauth: invalid bearer token")

// BearerScopes checks an access token against the database (as userinfo
// does) and returns the scopes granted to it. It fails with ErrInvalidBearer
// for a token that is not active, and wraps storage.ErrUnavailable during an
// outage so callers can answer 503.
func (p *Provider) BearerScopes(ctx context.Context, token string) ([]string, error) {
	if token == "" {
		return nil, ErrInvalidBearer
	}
	_, req, err := p.fosite.IntrospectToken(ctx, token, fosite.AccessToken, newSession())
	if err != nil {
		if unavailable(err) {
			return nil, fmt.Errorf("check bearer token: %w", err)
		}
		return nil, ErrInvalidBearer
	}
	return req.GetGrantedScopes(), nil
}
