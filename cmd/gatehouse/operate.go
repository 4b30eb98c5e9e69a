package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/server/keys"
	"github.com/gatehouse/gatehouse/server/mfa"
	"github.com/gatehouse/gatehouse/server/secret"
)

func (a *app) cleanupCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "cleanup",
		Short: "Delete expired tokens, codes, sessions and other expired rows now",
		Long: `Delete expired tokens, codes, sessions, client-assertion jtis, lockout
counters, sign-in events, mail links and session-client rows, in batches of
1000 rows per statement.

"gatehouse serve" does the same every 10 minutes. On PostgreSQL an advisory
lock lets one instance clean at a time; when another holds it, this command
does nothing and says so in the log.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			store, err := a.openStore(cmd, true)
			if err != nil {
				return err
			}
			defer store.Close()
			start := time.Now()
			if err := store.DeleteExpired(cmd.Context(), start); err != nil {
				return fmt.Errorf("cleanup: %w", err)
			}
			if a.json {
				return a.printJSON(map[string]any{"duration_ms": time.Since(start).Milliseconds()})
			}
			fmt.Fprintf(a.stdout, "Expired rows deleted in %s.\n", time.Since(start).Round(time.Millisecond))
			return nil
		},
	}
}

func (a *app) secretsCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "secrets",
		Short: "Manage the system secret",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "reencrypt",
		Short: "Re-encrypt everything sealed at rest with the current secret",
		Long: `Re-encrypt everything sealed at rest with the current secret: the signing
keys' private keys and the TOTP secrets (active and pending).

Rotate the system secret in three steps:
  1. set the new secret in ` + envSecret + ` and the old one in ` + envSecretOld + `
     (comma-separated if several), restart every instance;
  2. run "gatehouse secrets reencrypt" with the same two variables;
  3. once the longest token lifetime has passed, remove ` + envSecretOld + `.

Client secrets, recovery codes and mail links are stored as keyed digests,
which cannot be re-keyed: they keep verifying through ` + envSecretOld + ` until
they are replaced (rotate client secrets, regenerate recovery codes; mail
links expire within a day). Tokens and cookies of the old secret stay valid
while ` + envSecretOld + ` is set.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			store, err := a.openStore(cmd, true)
			if err != nil {
				return err
			}
			defer store.Close()
			dataDir, err := a.dataDir(cmd)
			if err != nil {
				return err
			}
			logger, err := a.logger(cmd, "warn", "text")
			if err != nil {
				return err
			}
			keyring, err := a.keyring(cmd, dataDir, secretOrFile, logger)
			if err != nil {
				return err
			}
			sealer := keyring.AEAD(secret.PurposeAtRest)
			ctx := cmd.Context()
			nKeys, err := keys.Reseal(ctx, store, sealer)
			if err != nil {
				return fmt.Errorf("%w (is the old secret in %s?)", err, envSecretOld)
			}
			nTOTP, err := mfa.Reseal(ctx, store, sealer)
			if err != nil {
				return fmt.Errorf("%w (is the old secret in %s?)", err, envSecretOld)
			}
			if a.json {
				return a.printJSON(map[string]any{"signing_keys": nKeys, "totp_secrets": nTOTP})
			}
			fmt.Fprintf(a.stdout, "Re-encrypted %d signing keys and %d TOTP secrets with the current secret.\n", nKeys, nTOTP)
			return nil
		},
	})
	return cmd
}
