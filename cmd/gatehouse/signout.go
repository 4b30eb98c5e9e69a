package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/server/credential"
	"github.com/gatehouse/gatehouse/server/keys"
	"github.com/gatehouse/gatehouse/server/logout"
	"github.com/gatehouse/gatehouse/server/manage"
	"github.com/gatehouse/gatehouse/server/outbound"
	"github.com/gatehouse/gatehouse/server/secret"
	"github.com/gatehouse/gatehouse/storage/sqlstore"
)

// sessionEndingService is manageService for commands that end a user's
// sessions (sign-out, disable, delete, set-password): when the system secret
// and GATEHOUSE_ISSUER are known, the clients of those sessions get
// back-channel logout tokens, delivered before the command exits. Otherwise
// the sessions still end, with a warning that no token was sent.
func (a *app) sessionEndingService(cmd *cobra.Command) (*manage.Service, func(), error) {
	store, err := a.openStore(cmd, true)
	if err != nil {
		return nil, nil, err
	}
	passwords := credential.NewPasswords(credential.DefaultPasswordParams, 1, 0)
	closeStore := func() { store.Close() }
	notifier, err := a.logoutNotifier(cmd, store)
	if err != nil {
		closeStore()
		return nil, nil, err
	}
	if notifier == nil {
		fmt.Fprintf(a.stderr, "Note: %s or the system secret is not set, so no back-channel logout tokens are sent.\n", envIssuer)
		return manage.New(store, passwords, nil, nil), closeStore, nil
	}
	svc := manage.New(store, passwords, nil, nil, manage.WithLogout(notifier))
	return svc, func() { notifier.Wait(); closeStore() }, nil
}

// logoutNotifier returns nil when the issuer or the secret is unknown.
func (a *app) logoutNotifier(cmd *cobra.Command, store *sqlstore.Store) (*logout.Notifier, error) {
	issuer := a.getenv(envIssuer)
	if issuer == "" {
		return nil, nil
	}
	dataDir, err := a.dataDir(cmd)
	if err != nil {
		return nil, err
	}
	logger, err := a.logger(cmd, "warn", "text")
	if err != nil {
		return nil, err
	}
	k, err := a.keyring(cmd, dataDir, secretOrFile, logger)
	if err != nil && a.setting(cmd, flagSecret, envSecret, "") == "" {
		// No secret at all: the sessions still end, without tokens.
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	km := keys.NewManager(keys.Config{Store: store, Sealer: k.AEAD(secret.PurposeAtRest), Logger: logger})
	if err := km.Reload(cmd.Context()); err != nil {
		return nil, fmt.Errorf("signing keys: %w", err)
	}
	return logout.New(logout.Config{
		Issuer:   issuer,
		Clients:  store,
		Sessions: store,
		Signer:   km.Signer(),
		HTTP:     outbound.NewClient(a.getenv(envAllowPrivateBackchannel) == "true"),
		Logger:   logger,
	}), nil
}

func (a *app) usersSignOutCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "sign-out ID|USERNAME",
		Short: "Sign a user out everywhere: end every session, revoke every token, notify the apps",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, done, err := a.sessionEndingService(cmd)
			if err != nil {
				return err
			}
			defer done()
			u, err := svc.SignOutUser(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return a.printUserDone(u, "Signed out everywhere")
		},
	}
}

func (a *app) usersUnlockCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "unlock ID|USERNAME",
		Short: "Lift a user's sign-in lockout (password and second factor, every address)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withService(cmd, func(svc *manage.Service) error {
				u, err := svc.UnlockUser(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				if logger, err := a.logger(cmd, "info", "text"); err == nil {
					logger.WarnContext(cmd.Context(), "security event: unlock", "user_id", u.ID)
				}
				return a.printUserDone(u, "Unlocked")
			})
		},
	}
}
