package storage

import (
	"context"
	"errors"

	fositestorage "github.com/ory/fosite/storage"
)

// InTx runs fn in one transaction of s (carried by the context fn gets),
// committed when fn succeeds and rolled back when it fails or panics, so
// that no transaction is left holding a connection. The store's own errors
// name the step that failed (begin, commit, rollback).
func InTx(ctx context.Context, s fositestorage.Transactional, fn func(ctx context.Context) error) (err error) {
	txCtx, err := s.BeginTX(ctx)
	if err != nil {
		return err
	}
	committing := false
	defer func() {
		if committing {
			return
		}
		if rerr := s.Rollback(txCtx); rerr != nil {
			err = errors.Join(err, rerr)
		}
	}()
	if err = fn(txCtx); err != nil {
		return err
	}
	committing = true
	return s.Commit(txCtx)
}
