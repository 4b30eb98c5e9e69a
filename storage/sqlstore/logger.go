package sqlstore

import (
	"context"
	"log/slog"
	"time"

	"gorm.io/gorm/logger"
)

// gormLogger reports slow queries to slog at warn level. It never logs
// parameter values (they may be digests of tokens, password hashes or
// ciphertexts) and never logs errors: the store returns those to callers,
// who log them once at the edge.
type gormLogger struct {
	log  *slog.Logger
	slow time.Duration
}

func (l gormLogger) LogMode(logger.LogLevel) logger.Interface      { return l }
func (l gormLogger) Info(context.Context, string, ...interface{})  {}
func (l gormLogger) Warn(context.Context, string, ...interface{})  {}
func (l gormLogger) Error(context.Context, string, ...interface{}) {}

// ParamsFilter drops the parameters, so that the SQL passed to Trace keeps
// its placeholders.
func (l gormLogger) ParamsFilter(_ context.Context, sql string, _ ...interface{}) (string, []interface{}) {
	return sql, nil
}

func (l gormLogger) Trace(ctx context.Context, begin time.Time, fc func() (string, int64), _ error) {
	elapsed := time.Since(begin)
	if elapsed < l.slow {
		return
	}
	sql, rows := fc()
	l.log.WarnContext(ctx, "slow database query", "elapsed", elapsed, "rows", rows, "sql", sql)
}
