// Package sqlstore is Gatehouse's storage backend: storage.Store on GORM, for
// SQLite (the embedded default, pure Go) and PostgreSQL. It is the only
// package that imports GORM or a database driver.
//
// DSNs accepted by Open:
//
//	sqlite:///abs/path/gatehouse.db   absolute path
//	sqlite://relative/gatehouse.db    path relative to the working directory
//	postgres://user:pw@host:port/db?sslmode=disable   (postgresql:// too)
//
// In-memory SQLite and query parameters on sqlite:// DSNs are refused: the
// store sets the connection parameters itself (WAL, busy_timeout, foreign
// keys, BEGIN IMMEDIATE) and holds exactly one SQLite connection, so that
// writes serialize inside the process and transactions never deadlock on
// SQLite's lock upgrade. The price of one connection is that every query made
// while a transaction is open must use that transaction: every method takes
// its connection from the context (see BeginTX), never from the pool behind
// its back.
//
// On PostgreSQL a transaction spends as few round trips as it can (see
// pgTx): BEGIN goes with its first statement, and writes whose outcome no
// caller reads wait to be pipelined with the next statement or the commit.
// Such a write's error therefore comes from a later call of the same
// transaction, at the latest from Commit.
//
// The schema comes from the migrations package (goose, one SQL set per
// dialect); Migrate applies it under a PostgreSQL advisory lock so several
// instances may start at once. The store never creates tables from models.
//
// Keys derived from codes and tokens (fosite signatures, the raw code of the
// OpenID Connect session, client-assertion jtis) are stored as SHA-256
// digests. Times are written in UTC, truncated to microseconds, and read back
// in UTC. Errors: a missing row is storage.ErrNotFound (and fosite.ErrNotFound),
// a unique violation storage.ErrAlreadyExists, an unreachable database
// storage.ErrUnavailable. Error texts never carry keys, codes or tokens.
package sqlstore
