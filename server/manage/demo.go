package manage

import (
	"context"
	"errors"
	"fmt"

	"github.com/gatehouse/gatehouse/server/credential"
	"github.com/gatehouse/gatehouse/storage"
)

// The demo client and user that development mode seeds.
const (
	DemoClientID    = "demo-app"
	DemoClientName  = "Demo app"
	DemoRedirectURI = "http://127.0.0.1:5555/callback"
	DemoUsername    = "demo"
	DemoEmail       = "demo@example.com"
	// demoPasswordBytes gives the generated password 120 bits (20 characters).
	demoPasswordBytes = 15
)

// Demo is what development mode prints so a newcomer can sign in at once.
type Demo struct {
	ClientID     string
	ClientSecret string
	RedirectURI  string
	Username     string
	Password     string
}

// SeedDemo makes sure the demo client (a confidential client with a loopback
// redirect URI, which matches on any port) and the demo user exist, and gives
// both a fresh secret and password. The store keeps only digests, so the
// credentials cannot be shown again: each start rotates them instead, and the
// rest of the records is left as it was.
func (s *Service) SeedDemo(ctx context.Context) (Demo, error) {
	d := Demo{ClientID: DemoClientID, RedirectURI: DemoRedirectURI, Username: DemoUsername}
	var err error
	if d.ClientSecret, err = s.seedDemoClient(ctx); err != nil {
		return Demo{}, err
	}
	if d.Password, err = s.seedDemoUser(ctx); err != nil {
		return Demo{}, err
	}
	return d, nil
}

func (s *Service) seedDemoClient(ctx context.Context) (string, error) {
	secret, digest, err := s.newClientSecret(ctx)
	if err != nil {
		return "", err
	}
	_, err = s.store.FindClient(ctx, DemoClientID)
	if errors.Is(err, storage.ErrNotFound) {
		c, verr := s.clientFromSpec(ClientSpec{Name: DemoClientName, RedirectURIs: []string{DemoRedirectURI}})
		if verr != nil {
			return "", fmt.Errorf("demo client: %w", verr)
		}
		c.ID, c.SecretDigest = DemoClientID, digest
		now := s.now().UTC()
		c.CreatedAt, c.UpdatedAt = now, now
		err = s.store.CreateClient(ctx, c)
		if err == nil {
			return secret, nil
		}
		// Another instance seeded it first: rotate the secret below.
		if !errors.Is(err, storage.ErrAlreadyExists) {
			return "", fmt.Errorf("create demo client: %w", err)
		}
	} else if err != nil {
		return "", fmt.Errorf("load demo client: %w", err)
	}
	err = s.store.UpdateClient(ctx, DemoClientID, func(c *storage.Client) error {
		c.SecretDigest = digest
		c.UpdatedAt = s.now().UTC()
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("rotate demo client secret: %w", err)
	}
	return secret, nil
}

func (s *Service) seedDemoUser(ctx context.Context) (string, error) {
	password := credential.RandomID(demoPasswordBytes)
	_, err := s.store.FindUserByUsername(ctx, DemoUsername)
	if errors.Is(err, storage.ErrNotFound) {
		_, err = s.CreateUser(ctx, UserSpec{Username: DemoUsername, Email: DemoEmail, DisplayName: "Demo User", Password: password})
		if err == nil {
			return password, nil
		}
		if !errors.Is(err, storage.ErrAlreadyExists) {
			return "", fmt.Errorf("create demo user: %w", err)
		}
	} else if err != nil {
		return "", fmt.Errorf("load demo user: %w", err)
	}
	if _, err := s.SetPassword(ctx, DemoUsername, password); err != nil {
		return "", fmt.Errorf("reset demo password: %w", err)
	}
	return password, nil
}
