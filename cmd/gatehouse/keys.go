package main

import (
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/server/keys"
	"github.com/gatehouse/gatehouse/server/secret"
	"github.com/gatehouse/gatehouse/storage"
)

func (a *app) keysCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "Rotate, list and retire the signing keys",
		Long: `Signing keys sign ID tokens and JWT access tokens. A rotated key is published
in the JWKS at once and signs only after the JWKS cache lifetime (5 minutes)
plus 10 seconds, so that relying parties have fetched it; every running
instance follows the database within 10 seconds.`,
	}
	cmd.AddCommand(a.keysRotateCommand(), a.keysListCommand(), a.keysRetireCommand())
	return cmd
}

func (a *app) keysRotateCommand() *cobra.Command {
	var alg string
	var now bool
	cmd := &cobra.Command{
		Use:   "rotate",
		Short: "Publish a new signing key; it signs after the JWKS cache lifetime",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			m, closeStore, err := a.keyManager(cmd, true)
			if err != nil {
				return err
			}
			defer closeStore()
			// A key sealed with another secret than the server's would be
			// useless to it: check that this secret opens the stored keys.
			if err := m.Reload(cmd.Context()); err != nil {
				return fmt.Errorf("this system secret does not open the stored signing keys (is GATEHOUSE_SECRET the server's?): %w", err)
			}
			k, err := m.Rotate(cmd.Context(), alg, now)
			if errors.Is(err, keys.ErrUnsupportedAlg) {
				return fmt.Errorf("--alg %q is not supported (use RS256 or ES256)", alg)
			}
			if err != nil {
				return err
			}
			if a.json {
				return a.printJSON(keyJSON{KID: k.KID, Alg: k.Alg, CreatedAt: k.CreatedAt, ActivateAt: k.ActivateAt})
			}
			fmt.Fprintf(a.stdout, "kid:         %s\nalg:         %s\nactivate_at: %s\n", k.KID, k.Alg, k.ActivateAt.Format(time.RFC3339))
			return nil
		},
	}
	cmd.Flags().StringVar(&alg, "alg", keys.AlgRS256, "algorithm of the new key: RS256 or ES256")
	cmd.Flags().BoolVar(&now, "now", false, "sign with the new key at once (emergencies: relying parties with a cached JWKS reject its tokens until they refetch)")
	return cmd
}

func (a *app) keysListCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List signing keys, retired ones included",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			m, closeStore, err := a.keyManager(cmd, false)
			if err != nil {
				return err
			}
			defer closeStore()
			infos, err := m.List(cmd.Context())
			if err != nil {
				return err
			}
			if a.json {
				out := make([]keyJSON, 0, len(infos))
				for _, k := range infos {
					out = append(out, keyJSON{KID: k.KID, Alg: k.Alg, State: keyState(k, time.Now()), CreatedAt: k.CreatedAt, ActivateAt: k.ActivateAt, RetiredAt: k.RetiredAt})
				}
				return a.printJSON(out)
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "KID\tALG\tSTATE\tCREATED\tSIGNS FROM\tRETIRED")
			for _, k := range infos {
				retired := "-"
				if k.RetiredAt != nil {
					retired = k.RetiredAt.Format(time.RFC3339)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", k.KID, k.Alg, keyState(k, time.Now()), k.CreatedAt.Format(time.RFC3339), k.ActivateAt.Format(time.RFC3339), retired)
			}
			return tw.Flush()
		},
	}
}

func (a *app) keysRetireCommand() *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "retire [--force] [--] KID",
		Short: "Remove a key from the JWKS (not the active key)",
		// New key ids never begin with '-', but those of keys made by
		// earlier versions may.
		Long: "Remove a key from the JWKS (not the active key).\n\nA KID that begins with '-' must follow '--': gatehouse keys retire -- -AbC...",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			lifetimes, err := a.lifetimes(cmd)
			if err != nil {
				return err
			}
			m, closeStore, err := a.keyManager(cmd, true)
			if err != nil {
				return err
			}
			defer closeStore()
			kid := args[0]
			switch err := m.Retire(cmd.Context(), kid, force, lifetimes.LongestTokenLifetime()); {
			case errors.Is(err, storage.ErrNotFound):
				return fmt.Errorf("key %q not found", kid)
			case errors.Is(err, keys.ErrActiveKey):
				return fmt.Errorf("key %q signs now: rotate first, then retire it once its tokens have expired", kid)
			case errors.Is(err, keys.ErrKeyTooYoung):
				return fmt.Errorf("key %q may have signed tokens that are still valid (up to %s): retire it later, or with --force", kid, lifetimes.LongestTokenLifetime())
			case err != nil:
				return err
			}
			if a.json {
				return a.printJSON(map[string]any{"kid": kid, "retired": true})
			}
			fmt.Fprintf(a.stdout, "Retired key %s; it has left the JWKS.\n", kid)
			return nil
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "retire even if tokens it signed may still be valid (they stop verifying)")
	return cmd
}

// keyManager opens the database and returns a key manager over it, with a
// function that closes the database. Rotating and retiring need the system
// secret (they reload the keys, whose private parts are encrypted at rest);
// listing does not.
func (a *app) keyManager(cmd *cobra.Command, withSecret bool) (*keys.Manager, func(), error) {
	logger, err := a.logger(cmd, "warn", "text")
	if err != nil {
		return nil, nil, err
	}
	store, err := a.openStore(cmd, true)
	if err != nil {
		return nil, nil, err
	}
	cfg := keys.Config{Store: store, Logger: logger}
	if withSecret {
		dataDir, err := a.dataDir(cmd)
		if err != nil {
			store.Close()
			return nil, nil, err
		}
		k, err := a.keyring(cmd, dataDir, secretOrFile, logger)
		if err != nil {
			store.Close()
			return nil, nil, err
		}
		cfg.Sealer = k.AEAD(secret.PurposeAtRest)
	}
	return keys.NewManager(cfg), func() { store.Close() }, nil
}

// keyState names where a key is in its life.
func keyState(k keys.KeyInfo, now time.Time) string {
	switch {
	case k.RetiredAt != nil:
		return "retired"
	case k.Active:
		return "active"
	case k.ActivateAt.After(now):
		return "next"
	default:
		return "published"
	}
}

type keyJSON struct {
	KID        string     `json:"kid"`
	Alg        string     `json:"alg"`
	State      string     `json:"state,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	ActivateAt time.Time  `json:"activate_at"`
	RetiredAt  *time.Time `json:"retired_at,omitempty"`
}
