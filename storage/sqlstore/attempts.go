package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/gatehouse/gatehouse/storage"
)

type attemptCounterModel struct {
	Key         string     `gorm:"column:key;primaryKey"`
	Failures    int        `gorm:"column:failures"`
	WindowStart time.Time  `gorm:"column:window_start"`
	Lockouts    int        `gorm:"column:lockouts"`
	LockedUntil *time.Time `gorm:"column:locked_until"`
	ExpiresAt   time.Time  `gorm:"column:expires_at"`
}

func (attemptCounterModel) TableName() string { return "attempt_counters" }

func (m *attemptCounterModel) record() *storage.AttemptCounter {
	return &storage.AttemptCounter{
		Key: m.Key, Failures: m.Failures, WindowStart: m.WindowStart.UTC(), Lockouts: m.Lockouts,
		LockedUntil: timeOf(m.LockedUntil), ExpiresAt: m.ExpiresAt.UTC(),
	}
}

// FindAttemptCounters returns the existing counters among keys.
func (s *Store) FindAttemptCounters(ctx context.Context, keys ...string) (map[string]*storage.AttemptCounter, error) {
	out := map[string]*storage.AttemptCounter{}
	if len(keys) == 0 {
		return out, nil
	}
	var ms []attemptCounterModel
	if err := s.conn(ctx).Where("key IN ?", keys).Find(&ms).Error; err != nil {
		return nil, classify("find attempt counters", err)
	}
	for i := range ms {
		out[ms[i].Key] = ms[i].record()
	}
	return out, nil
}

// UpdateAttemptCounter loads (or starts) a counter, applies fn and saves it.
func (s *Store) UpdateAttemptCounter(ctx context.Context, key string, fn func(*storage.AttemptCounter) error) error {
	const op = "update attempt counter"
	return s.inTx(ctx, func(ctx context.Context) error {
		db := s.conn(ctx)
		var m attemptCounterModel
		// Make sure the row exists, so that the locking read serializes
		// concurrent first failures too. A concurrent reset may delete it
		// between the two statements: then seed it again.
		for attempt := 0; ; attempt++ {
			seed := attemptCounterModel{Key: key, WindowStart: utc(time.Now()), ExpiresAt: utc(time.Now().Add(time.Hour))}
			if err := db.Clauses(clause.OnConflict{DoNothing: true}).Create(&seed).Error; err != nil {
				return classify(op, err)
			}
			err := s.forUpdate(db).Where("key = ?", key).Take(&m).Error
			if err == nil {
				break
			}
			if !errors.Is(err, gorm.ErrRecordNotFound) || attempt == 3 {
				return classify(op, err)
			}
		}
		c := m.record()
		if err := fn(c); err != nil {
			return err
		}
		next := attemptCounterModel{
			Key: key, Failures: c.Failures, WindowStart: utc(c.WindowStart), Lockouts: c.Lockouts,
			LockedUntil: timePtr(c.LockedUntil), ExpiresAt: utc(c.ExpiresAt),
		}
		return classify(op, db.Model(&attemptCounterModel{}).Where("key = ?", key).Select("*").Updates(&next).Error)
	})
}

// DeleteAttemptCounters deletes counters by key.
func (s *Store) DeleteAttemptCounters(ctx context.Context, keys ...string) error {
	if len(keys) == 0 {
		return nil
	}
	return classify("delete attempt counters", s.conn(ctx).Where("key IN ?", keys).Delete(&attemptCounterModel{}).Error)
}

// DeleteAttemptCountersByPrefix deletes every counter whose key starts with prefix.
func (s *Store) DeleteAttemptCountersByPrefix(ctx context.Context, prefix string) error {
	pattern := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(prefix) + "%"
	err := s.conn(ctx).Where(`key LIKE ? ESCAPE '\'`, pattern).Delete(&attemptCounterModel{}).Error
	return classify(fmt.Sprintf("delete attempt counters %q", prefix), err)
}

type signInEventModel struct {
	ID        int64      `gorm:"column:id;primaryKey;autoIncrement"`
	UserID    string     `gorm:"column:user_id"`
	At        time.Time  `gorm:"column:at"`
	Address   string     `gorm:"column:address"`
	UserAgent string     `gorm:"column:user_agent"`
	Methods   stringList `gorm:"column:methods"`
	ExpiresAt time.Time  `gorm:"column:expires_at"`
}

func (signInEventModel) TableName() string { return "sign_in_events" }

// signInRetention is how long sign-ins stay in the activity list.
const signInRetention = 90 * 24 * time.Hour

// RecordSignIn stores a successful sign-in.
func (s *Store) RecordSignIn(ctx context.Context, e *storage.SignInEvent) error {
	m := signInEventModel{
		UserID: e.UserID, At: utc(e.At), Address: e.Address, UserAgent: e.UserAgent,
		Methods: e.Methods, ExpiresAt: utc(e.At.Add(signInRetention)),
	}
	return classify("record sign-in", s.conn(ctx).Create(&m).Error)
}

// ListSignIns returns the user's most recent sign-ins, newest first.
func (s *Store) ListSignIns(ctx context.Context, userID string, limit int) ([]*storage.SignInEvent, error) {
	var ms []signInEventModel
	err := s.conn(ctx).Where("user_id = ?", userID).Order("at DESC, id DESC").Limit(limit).Find(&ms).Error
	if err != nil {
		return nil, classify("list sign-ins", err)
	}
	out := make([]*storage.SignInEvent, len(ms))
	for i, m := range ms {
		out[i] = &storage.SignInEvent{UserID: m.UserID, At: m.At.UTC(), Address: m.Address, UserAgent: m.UserAgent, Methods: m.Methods}
	}
	return out, nil
}
