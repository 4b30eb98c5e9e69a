package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func (a *app) migrateCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Apply pending database migrations and print the schema version",
		Long: `Apply pending database migrations and print the schema version.

On PostgreSQL an advisory lock makes it safe for several instances to migrate
at once; "gatehouse serve" does the same on start unless --no-migrate.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			store, err := a.openStore(cmd, false)
			if err != nil {
				return err
			}
			defer store.Close()
			version, err := store.Migrate(cmd.Context())
			if err != nil {
				return fmt.Errorf("migrate: %w", err)
			}
			if a.json {
				return a.printJSON(map[string]any{"dialect": store.Dialect(), "version": version})
			}
			fmt.Fprintf(a.stdout, "Database schema at version %d (%s).\n", version, store.Dialect())
			return nil
		},
	}
}
