// Command gatehouse runs the Gatehouse OAuth 2.0 / OpenID Connect server and
// provisions its clients, users and signing keys.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/server/manage"
)

func main() {
	a := &app{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}
	os.Exit(a.run(context.Background(), os.Args[1:]))
}

// app holds the process's streams and environment, so that commands read and
// write nothing else.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	// json is the value of the persistent --json flag.
	json bool
	// file holds the configuration file's settings by flag name.
	file map[string]string
}

// run executes the command line and returns the exit code.
func (a *app) run(ctx context.Context, args []string) int {
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetIn(a.stdin)
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	if err := root.ExecuteContext(ctx); err != nil {
		a.printError(err)
		return 1
	}
	return 0
}

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "gatehouse",
		Short: "Gatehouse, an OAuth 2.0 and OpenID Connect authorization server",
		Long: `Gatehouse is an OAuth 2.0 and OpenID Connect authorization server.

Configuration comes from environment variables (GATEHOUSE_*); a flag given on
the command line wins over its variable, which wins over the YAML file given
by --config or GATEHOUSE_CONFIG. Run "gatehouse serve --dev" to try it.`,
		SilenceErrors: true,
		SilenceUsage:  true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return a.useConfigFile(cmd)
		},
	}
	pf := root.PersistentFlags()
	pf.String(flagConfig, "", "YAML configuration file: flag names as keys (env "+envConfig+"); flags and environment variables win over it")
	pf.BoolVar(&a.json, "json", false, "print machine-readable JSON on stdout")
	pf.String(flagDSN, "", "database: sqlite:///abs/path.db or postgres://... (env GATEHOUSE_DSN; default gatehouse.db in the data directory)")
	pf.String(flagDataDir, "", "directory of the default SQLite database and the dev-mode secret (env GATEHOUSE_DATA_DIR; default the current directory)")
	pf.String(flagLogLevel, "", "log level: debug, info, warn or error (env GATEHOUSE_LOG_LEVEL; default info for serve, warn otherwise)")
	pf.String(flagLogFormat, "", "log format: text or json (env GATEHOUSE_LOG_FORMAT; default json for serve, text in dev mode and for other commands)")
	root.AddCommand(
		a.serveCommand(),
		a.migrateCommand(),
		a.clientsCommand(),
		a.usersCommand(),
		a.rolesCommand(),
		a.keysCommand(),
		a.versionCommand(),
		a.cleanupCommand(),
		a.secretsCommand(),
		a.configCommand(),
	)
	return root
}

// printError reports err on stderr: as {"error": ..., "field": ...} with
// --json, as "Error: ..." otherwise.
func (a *app) printError(err error) {
	var verr *manage.ValidationError
	if a.json {
		out := struct {
			Error string `json:"error"`
			Field string `json:"field,omitempty"`
		}{Error: err.Error()}
		if errors.As(err, &verr) {
			out.Error, out.Field = verr.Message, verr.Field
		}
		_ = json.NewEncoder(a.stderr).Encode(out)
		return
	}
	fmt.Fprintln(a.stderr, "Error:", err)
}

// printJSON writes v as indented JSON on stdout.
func (a *app) printJSON(v any) error {
	enc := json.NewEncoder(a.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
