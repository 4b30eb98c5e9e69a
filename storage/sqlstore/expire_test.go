package sqlstore

import (
	"fmt"
	"testing"
	"time"
)

// TestDeleteExpiredBatches fills a table with more expired rows than one
// batch holds, next to live ones, and checks that the janitor removes
// exactly the expired ones; on PostgreSQL also that it leaves everything
// alone while another instance holds the clean-up lock.
func TestDeleteExpiredBatches(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	const expired, live = 2*cleanupBatch + 17, 3
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			s := migratedStore(t, d.dsn(t))
			ctx := t.Context()
			insert := func(prefix string, n int, expires time.Time) {
				for i := range n {
					err := s.conn(ctx).Exec("INSERT INTO attempt_counters (key, window_start, expires_at) VALUES (?, ?, ?)",
						fmt.Sprintf("%s-%d", prefix, i), now, expires).Error
					if err != nil {
						t.Fatalf("insert: %v", err)
					}
				}
			}
			insert("old", expired, now.Add(-time.Second))
			insert("live", live, now.Add(time.Second))
			count := func() (total, old int64) {
				if err := s.conn(ctx).Raw("SELECT COUNT(*) FROM attempt_counters").Scan(&total).Error; err != nil {
					t.Fatal(err)
				}
				if err := s.conn(ctx).Raw("SELECT COUNT(*) FROM attempt_counters WHERE key LIKE 'old-%'").Scan(&old).Error; err != nil {
					t.Fatal(err)
				}
				return total, old
			}

			if d.name == DialectPostgres {
				conn, err := s.sqlDB.Conn(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", cleanupLockKey); err != nil {
					t.Fatal(err)
				}
				if err := s.DeleteExpired(ctx, now); err != nil {
					t.Fatalf("delete expired while locked: %v", err)
				}
				if total, _ := count(); total != expired+live {
					t.Errorf("while another instance holds the lock: %d rows left, want %d", total, expired+live)
				}
				if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_unlock($1)", cleanupLockKey); err != nil {
					t.Fatal(err)
				}
				conn.Close()
			}

			if err := s.DeleteExpired(ctx, now); err != nil {
				t.Fatalf("delete expired: %v", err)
			}
			if total, old := count(); total != live || old != 0 {
				t.Errorf("after clean-up: %d rows (%d expired), want %d live rows only", total, old, live)
			}
		})
	}
}
