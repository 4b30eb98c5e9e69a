package storage

import "errors"

var (
	// ErrNotFound is returned when a record does not exist (or has expired).
	ErrNotFound = errors.New("storage: not found")
	// ErrAlreadyExists is returned when a unique key is already taken.
	ErrAlreadyExists = errors.New("storage: already exists")
	// ErrUnavailable wraps every error caused by the database being out of
	// reach (connection refused, closed, timed out). Handlers answer 503 for it.
	ErrUnavailable = errors.New("storage: database unavailable")
	// ErrConflict is returned when a conditional update lost a race.
	ErrConflict = errors.New("storage: concurrent update")
)
