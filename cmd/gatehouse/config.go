package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/server/secret"
	"github.com/gatehouse/gatehouse/storage/sqlstore"
)

// Flags shared by several commands, with their environment variables.
const (
	flagDSN       = "dsn"
	flagDataDir   = "data-dir"
	flagLogLevel  = "log-level"
	flagLogFormat = "log-format"
	flagSecret    = "secret"

	envDSN       = "GATEHOUSE_DSN"
	envDataDir   = "GATEHOUSE_DATA_DIR"
	envLogLevel  = "GATEHOUSE_LOG_LEVEL"
	envLogFormat = "GATEHOUSE_LOG_FORMAT"
	envSecret    = "GATEHOUSE_SECRET"
	envSecretOld = "GATEHOUSE_SECRET_OLD"

	// devSecretFile holds the secret generated in dev mode, inside the data directory.
	devSecretFile = "gatehouse.secret"
	// defaultDBFile is the SQLite database used when no DSN is given.
	defaultDBFile = "gatehouse.db"
)

// setting returns the flag's value when it was given on the command line,
// else the environment variable's when set, else the configuration file's,
// else def.
func (a *app) setting(cmd *cobra.Command, flag, env, def string) string {
	if f := cmd.Flags().Lookup(flag); f != nil && f.Changed {
		return f.Value.String()
	}
	if env != "" {
		if v := a.getenv(env); v != "" {
			return v
		}
	}
	if v, ok := a.file[flag]; ok && v != "" {
		return v
	}
	return def
}

// dataDir returns the absolute data directory.
func (a *app) dataDir(cmd *cobra.Command) (string, error) {
	dir, err := filepath.Abs(a.setting(cmd, flagDataDir, envDataDir, "."))
	if err != nil {
		return "", fmt.Errorf("data directory: %w", err)
	}
	return dir, nil
}

// dsn returns the configured DSN, or the SQLite file in the data directory.
func (a *app) dsn(cmd *cobra.Command, dataDir string) string {
	return a.setting(cmd, flagDSN, envDSN, "sqlite://"+filepath.ToSlash(filepath.Join(dataDir, defaultDBFile)))
}

// logger returns a slog logger on stderr. Nothing secret is ever passed to it.
func (a *app) logger(cmd *cobra.Command, defLevel, defFormat string) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(a.setting(cmd, flagLogLevel, envLogLevel, defLevel))); err != nil {
		return nil, fmt.Errorf("log level: want debug, info, warn or error")
	}
	opts := &slog.HandlerOptions{Level: level}
	switch a.setting(cmd, flagLogFormat, envLogFormat, defFormat) {
	case "json":
		return slog.New(slog.NewJSONHandler(a.stderr, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(a.stderr, opts)), nil
	default:
		return nil, errors.New("log format: want text or json")
	}
}

// openStore opens the configured database for a management command and
// refuses to go on when the schema is behind (the tables would be missing).
func (a *app) openStore(cmd *cobra.Command, checkSchema bool) (*sqlstore.Store, error) {
	dataDir, err := a.dataDir(cmd)
	if err != nil {
		return nil, err
	}
	logger, err := a.logger(cmd, "warn", "text")
	if err != nil {
		return nil, err
	}
	store, err := openDatabase(cmd.Context(), a.dsn(cmd, dataDir), sqlstore.Options{Logger: logger})
	if err != nil {
		return nil, err
	}
	if !checkSchema {
		return store, nil
	}
	pending, err := store.PendingMigrations(cmd.Context())
	if err != nil {
		store.Close()
		return nil, fmt.Errorf("check database schema: %w", err)
	}
	if pending {
		store.Close()
		return nil, errors.New("the database schema is not up to date: run \"gatehouse migrate\" first")
	}
	return store, nil
}

// openDatabase opens dsn. For SQLite it first creates the file's directory
// and an empty database file readable only by its owner (SQLite gives its
// -wal and -shm files the same mode). The DSN is never put in an error: it
// may hold a password.
func openDatabase(ctx context.Context, dsn string, opts sqlstore.Options) (*sqlstore.Store, error) {
	if path, ok := strings.CutPrefix(dsn, "sqlite://"); ok && path != "" {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("create database directory: %w", err)
		}
		f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE|os.O_EXCL, 0o600)
		switch {
		case err == nil:
			f.Close()
		case !errors.Is(err, fs.ErrExist):
			return nil, fmt.Errorf("create database file: %w", err)
		}
	}
	store, err := sqlstore.Open(ctx, dsn, opts)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	return store, nil
}

// secretSource says where a command may find the system secret.
type secretSource int

const (
	// secretFromEnv: only GATEHOUSE_SECRET or --secret (serve in production).
	secretFromEnv secretSource = iota
	// secretOrFile: also the dev-mode secret file, if one exists (management commands).
	secretOrFile
	// secretOrNewFile: also the dev-mode secret file, created when missing (serve --dev).
	secretOrNewFile
)

// keyring builds the keyring from the system secret and GATEHOUSE_SECRET_OLD.
func (a *app) keyring(cmd *cobra.Command, dataDir string, src secretSource, logger *slog.Logger) (*secret.Keyring, error) {
	current := []byte(a.setting(cmd, flagSecret, envSecret, ""))
	if len(current) == 0 && src != secretFromEnv {
		var err error
		if current, err = devSecret(filepath.Join(dataDir, devSecretFile), src == secretOrNewFile, logger); err != nil {
			return nil, err
		}
	}
	if len(current) == 0 {
		return nil, fmt.Errorf("%s is not set: give a random secret of at least %d bytes (e.g. from \"openssl rand -base64 48\"), or use --dev", envSecret, secret.MinSecretLength)
	}
	if len(current) < secret.MinSecretLength {
		return nil, fmt.Errorf("%s is too short: at least %d bytes are required", envSecret, secret.MinSecretLength)
	}
	var previous [][]byte
	for _, s := range strings.Split(a.getenv(envSecretOld), ",") {
		if s = strings.TrimSpace(s); s != "" {
			previous = append(previous, []byte(s))
		}
	}
	k, err := secret.NewKeyring(current, previous...)
	if err != nil {
		return nil, fmt.Errorf("system secret: %w", err)
	}
	return k, nil
}

// devSecret reads the dev-mode secret file, or creates it (mode 0600) with
// 48 random bytes, base64url encoded, when create is set. It returns nil
// when the file does not exist and create is not set.
func devSecret(path string, create bool, logger *slog.Logger) ([]byte, error) {
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
			logger.Warn("the secret file is readable by other users; run chmod 600 on it", "path", path)
		}
		return []byte(strings.TrimSpace(string(b))), nil
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("read secret file: %w", err)
	case !create:
		return nil, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	raw := make([]byte, 48)
	_, _ = rand.Read(raw) // never fails since Go 1.24
	s := base64.RawURLEncoding.EncodeToString(raw)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		// Another process created it first: use theirs.
		return devSecret(path, false, logger)
	}
	if err != nil {
		return nil, fmt.Errorf("create secret file: %w", err)
	}
	if _, err := f.WriteString(s + "\n"); err != nil {
		f.Close()
		return nil, fmt.Errorf("write secret file: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("write secret file: %w", err)
	}
	logger.Info("generated a development secret", "path", path)
	return []byte(s), nil
}
