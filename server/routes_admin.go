package server

import (
	"fmt"
	"net/http"

	"github.com/gatehouse/gatehouse/server/admin"
	"github.com/gatehouse/gatehouse/server/credential"
	"github.com/gatehouse/gatehouse/server/dcr"
	"github.com/gatehouse/gatehouse/server/manage"
	"github.com/gatehouse/gatehouse/server/secret"
)

// adminRoutes mounts the admin REST API. Its manage service can issue client
// secrets (the pages' one cannot) and sends back-channel logout tokens when
// it ends sessions.
func adminRoutes(mux *http.ServeMux, cfg Config, auth admin.BearerChecker, logout manage.SessionEnder) {
	hasher := credential.NewSecretHasher(cfg.Keyring.Digester(secret.PurposeClientSecret))
	admin.New(admin.Config{
		Manage:           manage.New(cfg.Store, cfg.Passwords, hasher, cfg.Now, manage.WithLogout(logout)),
		Consents:         cfg.Store,
		Sessions:         cfg.Store,
		Keys:             cfg.Keys,
		Auth:             auth,
		Logger:           cfg.Logger,
		MaxTokenLifetime: cfg.Lifetimes.LongestTokenLifetime(),
	}).Register(mux)
}

// registrationRoutes mounts dynamic client registration (RFC 7591/7592).
func registrationRoutes(mux *http.ServeMux, cfg Config, logout manage.SessionEnder) error {
	hasher := credential.NewSecretHasher(cfg.Keyring.Digester(secret.PurposeClientSecret))
	h, err := dcr.New(dcr.Config{
		Issuer:        cfg.Issuer,
		Manage:        manage.New(cfg.Store, cfg.Passwords, hasher, cfg.Now, manage.WithLogout(logout)),
		Tokens:        cfg.Keyring.Digester(secret.PurposeRegistrationToken),
		InitialTokens: cfg.RegistrationTokens,
		Logger:        cfg.Logger,
	})
	if err != nil {
		return fmt.Errorf("server: dynamic registration: %w", err)
	}
	h.Register(mux)
	return nil
}
