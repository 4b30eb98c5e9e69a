package storage

import (
	"context"
	"errors"
	"fmt"

	fositestorage "github.com/ory/fosite/storage"
)

// InTx runs fn in one transaction of s (carried by the context fn gets),
// committed when fn succeeds and rolled back otherwise.
func InTx(ctx context.Context, s fositestorage.Transactional, fn func(ctx context.Context) error) error {
	txCtx, err := s.BeginTX(ctx)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	if err := fn(txCtx); err != nil {
		if rerr := s.Rollback(txCtx); rerr != nil {
			return errors.Join(err, rerr)
		}
		return err
	}
	if err := s.Commit(txCtx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}
