// Package migrations embeds Gatehouse's versioned SQL schema, one goose
// migration set per dialect (postgres/ and sqlite/), numbered identically.
//
// The schema is written by hand, never derived from models (no AutoMigrate).
// A change is a new pair of files with the next number in both directories;
// an applied file is never edited. The package imports nothing of Gatehouse
// and runs nothing: storage/sqlstore applies the files.
package migrations
