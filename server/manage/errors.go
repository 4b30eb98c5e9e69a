package manage

import (
	"fmt"

	"github.com/gatehouse/gatehouse/storage"
)

// ValidationError is a problem with the caller's input. Its message is safe to
// show to the person who typed it; Field names the offending input.
type ValidationError struct {
	Field   string
	Message string
	// Err is an underlying sentinel (such as storage.ErrAlreadyExists), if any.
	Err error
}

func (e *ValidationError) Error() string { return e.Field + ": " + e.Message }

// Unwrap lets callers test the underlying sentinel with errors.Is.
func (e *ValidationError) Unwrap() error { return e.Err }

func invalid(field, format string, args ...any) *ValidationError {
	return &ValidationError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// NotFoundError says which record does not exist; it unwraps to
// storage.ErrNotFound.
type NotFoundError struct {
	// Kind is "client" or "user".
	Kind string
	ID   string
}

func (e *NotFoundError) Error() string { return fmt.Sprintf("%s %q not found", e.Kind, e.ID) }

// Unwrap makes errors.Is(err, storage.ErrNotFound) hold.
func (e *NotFoundError) Unwrap() error { return storage.ErrNotFound }
