package main

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"gopkg.in/yaml.v3"
)

const (
	flagConfig = "config"
	envConfig  = "GATEHOUSE_CONFIG"
)

// notInFile are the flags a configuration file cannot set: they choose the
// file or the output, or are not settings.
var notInFile = map[string]bool{flagConfig: true, "json": true, "help": true}

// secretKeys are the file keys holding credentials: such a file must be
// readable by its owner only.
var secretKeys = []string{flagSecret, "smtp-url", flagDSN}

// fileKeys returns the keys a configuration file may hold: the names of
// serve's flags and of the global flags.
func (a *app) fileKeys() map[string]bool {
	keys := map[string]bool{}
	add := func(f *pflag.Flag) {
		if !notInFile[f.Name] {
			keys[f.Name] = true
		}
	}
	a.rootCommand().PersistentFlags().VisitAll(add)
	a.serveCommand().Flags().VisitAll(add)
	return keys
}

// loadConfigFile reads the YAML configuration file at path: a mapping of
// flag names to scalar values (lists of scalars are joined with commas).
// Unknown keys, nested mappings and duplicate keys are refused.
func (a *app) loadConfigFile(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("configuration file: %w", err)
	}
	var raw map[string]any
	dec := yaml.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&raw); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("configuration file %s: %w", path, err)
	}
	allowed := a.fileKeys()
	settings := map[string]string{}
	var problems []string
	for k, v := range raw {
		if !allowed[k] {
			problems = append(problems, fmt.Sprintf("unknown key %q", k))
			continue
		}
		s, ok := scalarString(v)
		if !ok {
			problems = append(problems, fmt.Sprintf("key %q: want a value or a list of values", k))
			continue
		}
		settings[k] = s
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return nil, fmt.Errorf("configuration file %s: %s", path, strings.Join(problems, "; "))
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		for _, k := range secretKeys {
			if _, ok := settings[k]; ok {
				return nil, fmt.Errorf("configuration file %s holds %q but is readable by other users: run chmod 600 on it", path, k)
			}
		}
	}
	return settings, nil
}

// scalarString renders a YAML scalar, or a list of scalars joined by commas.
func scalarString(v any) (string, bool) {
	switch v := v.(type) {
	case nil:
		return "", true
	case map[string]any:
		return "", false
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			s, ok := scalarString(e)
			if !ok || strings.Contains(s, ",") {
				return "", false
			}
			parts[i] = s
		}
		return strings.Join(parts, ","), true
	default:
		return fmt.Sprint(v), true
	}
}

// useConfigFile loads the file named by --config or GATEHOUSE_CONFIG, if any.
func (a *app) useConfigFile(cmd *cobra.Command) error {
	path := a.getenv(envConfig)
	if f := cmd.Flags().Lookup(flagConfig); f != nil && f.Changed {
		path = f.Value.String()
	}
	if path == "" {
		return nil
	}
	settings, err := a.loadConfigFile(path)
	if err != nil {
		return err
	}
	a.file = settings
	return nil
}

func (a *app) configCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Check configuration files",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "check FILE",
		Short: "Check a YAML configuration file as serve would read it",
		Long: `Check a YAML configuration file as serve would read it: every key must
name a serve or global flag (issuer, addr, dsn, access-token-lifetime, ...),
every value must parse, and the settings must pass serve's checks together
with the environment (flags > environment > file).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			settings, err := a.loadConfigFile(args[0])
			if err != nil {
				return err
			}
			a.file = settings
			if err := a.checkServeSettings(); err != nil {
				return fmt.Errorf("configuration file %s: %w", args[0], err)
			}
			if a.json {
				return a.printJSON(map[string]any{"ok": true, "keys": len(settings)})
			}
			fmt.Fprintf(a.stdout, "%s: %d settings, all valid.\n", args[0], len(settings))
			return nil
		},
	})
	return cmd
}

// checkServeSettings runs serve's checks on the settings without starting:
// values, TLS files, and the secret's length when one is configured (it may
// also come from the environment only at deployment).
func (a *app) checkServeSettings() error {
	serve := a.serveCommand()
	cfg, err := a.serveConfig(serve, a.setting(serve, "dev", "", "false") == "true", false)
	if err != nil {
		return err
	}
	logger, err := a.logger(serve, "info", "json")
	if err != nil {
		return err
	}
	if cfg.tlsCert != "" {
		if _, err := tls.LoadX509KeyPair(cfg.tlsCert, cfg.tlsKey); err != nil {
			return fmt.Errorf("load TLS certificate: %w", err)
		}
	}
	if a.setting(serve, flagSecret, envSecret, "") != "" {
		if _, err := a.keyring(serve, cfg.dataDir, secretFromEnv, logger); err != nil {
			return err
		}
	}
	return nil
}
