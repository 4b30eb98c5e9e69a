// Package storage declares Gatehouse's persistent records, the interfaces a
// backend implements for them, and the sentinel errors callers test with
// errors.Is.
//
// It knows nothing of HTTP and nothing of GORM: storage/sqlstore is the one
// implementation (SQLite and PostgreSQL), and storage/storagetest is the
// conformance suite every backend must pass. The fosite storage interfaces are
// part of the contract because fosite drives every protocol flow; a Store is
// handed to fosite as is.
package storage
