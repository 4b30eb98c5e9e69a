package sqlstore

import (
	"context"
	"fmt"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/gatehouse/gatehouse/migrations"
)

// provider returns a goose provider over the store's pool. On PostgreSQL it
// holds a session-level advisory lock while migrating, so that instances
// starting together migrate one after the other (the others then find
// nothing to do); it retries the lock every second for up to five minutes.
// SQLite needs no lock: its write lock and the one connection serialize.
func (s *Store) provider() (*goose.Provider, error) {
	fsys, err := migrations.FS(s.dialect)
	if err != nil {
		return nil, err
	}
	opts := []goose.ProviderOption{goose.WithDisableGlobalRegistry(true)}
	dialect := goose.DialectSQLite3
	if s.dialect == DialectPostgres {
		dialect = goose.DialectPostgres
		locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 300))
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	// The provider is never closed: Close would close the store's pool.
	return goose.NewProvider(dialect, s.sqlDB, fsys, opts...)
}

// Migrate applies every pending migration and returns the schema version.
func (s *Store) Migrate(ctx context.Context) (int64, error) {
	p, err := s.provider()
	if err != nil {
		return 0, fmt.Errorf("migrate: %w", err)
	}
	results, err := p.Up(ctx)
	if err != nil {
		return 0, classify("migrate", err)
	}
	for _, r := range results {
		s.log.InfoContext(ctx, "applied database migration",
			"version", r.Source.Version, "file", r.Source.Path, "duration", r.Duration)
	}
	return s.MigrationVersion(ctx)
}

// MigrationVersion returns the schema version of the database (0 when no
// migration was applied). Like PendingMigrations, it creates goose's empty
// version table when the database has none.
func (s *Store) MigrationVersion(ctx context.Context) (int64, error) {
	p, err := s.provider()
	if err != nil {
		return 0, fmt.Errorf("migration version: %w", err)
	}
	v, err := p.GetDBVersion(ctx)
	if err != nil {
		return 0, classify("migration version", err)
	}
	return v, nil
}

// PendingMigrations reports whether migrations remain to be applied, so that
// a server started without migrating can refuse an old schema.
func (s *Store) PendingMigrations(ctx context.Context) (bool, error) {
	p, err := s.provider()
	if err != nil {
		return false, fmt.Errorf("pending migrations: %w", err)
	}
	pending, err := p.HasPending(ctx)
	if err != nil {
		return false, classify("pending migrations", err)
	}
	return pending, nil
}
