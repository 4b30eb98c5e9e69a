package keys

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse/gatehouse/server/secret"
	"github.com/gatehouse/gatehouse/storage"
)

// Signing algorithms Gatehouse supports.
const (
	AlgRS256 = "RS256"
	AlgES256 = "ES256"
)

// Algorithms returns the supported signing algorithms, the default first.
func Algorithms() []string { return []string{AlgRS256, AlgES256} }

// Defaults for Config.
const (
	DefaultCacheLifetime = 300 * time.Second
	DefaultPollInterval  = 5 * time.Second
	// activationMargin is added to the cache lifetime before a rotated key
	// signs, for clocks and caches that are a little late.
	activationMargin = 10 * time.Second
)

var (
	// ErrUnsupportedAlg is returned for an algorithm other than RS256 and ES256.
	ErrUnsupportedAlg = errors.New("keys: unsupported signing algorithm")
	// ErrNoActiveKey is returned when no key of an algorithm may sign now.
	ErrNoActiveKey = errors.New("keys: no active signing key")
	// ErrActiveKey is returned when asked to retire the key that signs now.
	ErrActiveKey = errors.New("keys: the key is the active signing key of its algorithm")
	// ErrKeyTooYoung is returned when a key may still have signed tokens that
	// have not expired; retire it with force, or later.
	ErrKeyTooYoung = errors.New("keys: the key may have signed tokens that are still valid")
	// ErrUnknownKey is returned for a kid that is not published.
	ErrUnknownKey = errors.New("keys: unknown key id")
)

// Config configures a Manager.
type Config struct {
	Store storage.SigningKeys
	// Sealer is the at-rest AEAD (secret.PurposeAtRest) for private keys.
	Sealer *secret.AEAD
	// CacheLifetime is the JWKS max-age; rotated keys sign only after it
	// (plus 10 s). Zero means DefaultCacheLifetime.
	CacheLifetime time.Duration
	// PollInterval is how often Run reloads keys. Zero means DefaultPollInterval.
	PollInterval time.Duration
	// Now is the clock; nil means time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// Manager holds the signing keys in memory and follows the database.
type Manager struct {
	store         storage.SigningKeys
	sealer        *secret.AEAD
	cacheLifetime time.Duration
	pollInterval  time.Duration
	now           func() time.Time
	logger        *slog.Logger

	reloadMu sync.Mutex
	state    atomic.Pointer[keySet]
}

// KeyInfo describes one key for `keys list`.
type KeyInfo struct {
	KID        string
	Alg        string
	CreatedAt  time.Time
	ActivateAt time.Time
	RetiredAt  *time.Time
	// Active reports that the key is the one signing for its algorithm now.
	Active bool
}

// NewManager returns a manager with no keys loaded; call EnsureKeys (serve)
// or Reload before use.
func NewManager(cfg Config) *Manager {
	m := &Manager{
		store:         cfg.Store,
		sealer:        cfg.Sealer,
		cacheLifetime: cfg.CacheLifetime,
		pollInterval:  cfg.PollInterval,
		now:           cfg.Now,
		logger:        cfg.Logger,
	}
	if m.cacheLifetime <= 0 {
		m.cacheLifetime = DefaultCacheLifetime
	}
	if m.pollInterval <= 0 {
		m.pollInterval = DefaultPollInterval
	}
	if m.now == nil {
		m.now = time.Now
	}
	if m.logger == nil {
		m.logger = slog.New(slog.DiscardHandler)
	}
	m.state.Store(emptyKeySet())
	return m
}

// EnsureKeys loads the keys and, for each algorithm without an active key
// (first start), creates one that signs at once. Two instances starting
// together may each create one; the extra key is harmless.
func (m *Manager) EnsureKeys(ctx context.Context) error {
	if err := m.Reload(ctx); err != nil {
		return err
	}
	for _, alg := range Algorithms() {
		if _, err := m.ActiveKID(alg); err == nil {
			continue
		}
		if _, err := m.Rotate(ctx, alg, true); err != nil {
			return err
		}
	}
	return nil
}

// Rotate creates a new key for alg and publishes it at once. It signs after
// the JWKS cache lifetime plus 10 s, or at once when immediate is set or no
// key of alg is active. A non-nil key means it was stored, even when the
// reload that follows fails.
func (m *Manager) Rotate(ctx context.Context, alg string, immediate bool) (*storage.SigningKey, error) {
	recs, err := m.store.ListSigningKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("rotate %s key: list keys: %w", alg, err)
	}
	now := m.now().UTC().Truncate(time.Microsecond)
	rec, err := m.generate(alg)
	if err != nil {
		return nil, fmt.Errorf("rotate %s key: %w", alg, err)
	}
	rec.CreatedAt = now
	switch current := activeRecord(recs, alg, now); {
	case current == nil:
		// Nothing signs yet, so no cache can be stale: sign at once.
		rec.ActivateAt = now
	case immediate:
		rec.ActivateAt = now
		if now.Equal(current.ActivateAt) && !now.After(current.CreatedAt) {
			// Same instant as the current key (a frozen or coarse clock): be
			// created after it, so that the tie-break picks the new key.
			rec.CreatedAt = current.CreatedAt.Add(time.Microsecond)
		}
	default:
		rec.ActivateAt = now.Add(m.cacheLifetime + activationMargin)
	}
	if err := m.store.CreateSigningKey(ctx, rec); err != nil {
		return nil, fmt.Errorf("rotate %s key: store key %q: %w", alg, rec.KID, err)
	}
	if err := m.Reload(ctx); err != nil {
		return rec, fmt.Errorf("rotate %s key: key %q stored: %w", alg, rec.KID, err)
	}
	return rec, nil
}

// Retire removes a key from the JWKS. It refuses the active key of its
// algorithm and, unless force is set, a key that may have signed tokens still
// valid: one created, or last signing, less than maxTokenLifetime ago.
// Retiring a retired key does nothing.
func (m *Manager) Retire(ctx context.Context, kid string, force bool, maxTokenLifetime time.Duration) error {
	recs, err := m.store.ListSigningKeys(ctx)
	if err != nil {
		return fmt.Errorf("retire key %q: list keys: %w", kid, err)
	}
	now := m.now().UTC()
	var target *storage.SigningKey
	for _, r := range recs {
		if r.KID == kid {
			target = r
		}
	}
	switch {
	case target == nil:
		return fmt.Errorf("retire key %q: %w", kid, storage.ErrNotFound)
	case target.RetiredAt != nil:
		return nil
	case activeRecord(recs, target.Alg, now) == target:
		return fmt.Errorf("retire key %q: %w", kid, ErrActiveKey)
	case !force && mayHaveLiveTokens(recs, target, now, maxTokenLifetime):
		return fmt.Errorf("retire key %q: %w", kid, ErrKeyTooYoung)
	}
	retiredAt := now.Truncate(time.Microsecond)
	err = m.store.UpdateSigningKey(ctx, kid, func(k *storage.SigningKey) error {
		if k.RetiredAt == nil {
			k.RetiredAt = &retiredAt
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("retire key %q: %w", kid, err)
	}
	if err := m.Reload(ctx); err != nil {
		return fmt.Errorf("retire key %q: key retired: %w", kid, err)
	}
	return nil
}

// List describes every key, retired ones included, oldest first.
func (m *Manager) List(ctx context.Context) ([]KeyInfo, error) {
	recs, err := m.store.ListSigningKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("list signing keys: %w", err)
	}
	now := m.now().UTC()
	active := map[*storage.SigningKey]bool{}
	for _, alg := range Algorithms() {
		if r := activeRecord(recs, alg, now); r != nil {
			active[r] = true
		}
	}
	out := make([]KeyInfo, len(recs))
	for i, r := range recs {
		out[i] = KeyInfo{
			KID:        r.KID,
			Alg:        r.Alg,
			CreatedAt:  r.CreatedAt,
			ActivateAt: r.ActivateAt,
			RetiredAt:  r.RetiredAt,
			Active:     active[r],
		}
	}
	return out, nil
}

// Run reloads the keys every PollInterval until ctx is done, so that this
// instance follows rotations made elsewhere. A failure is logged once, when
// it starts, and its end once.
func (m *Manager) Run(ctx context.Context) {
	ticker := time.NewTicker(m.pollInterval)
	defer ticker.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		err := m.Reload(ctx)
		switch {
		case err != nil && ctx.Err() != nil:
			return
		case err != nil && !failing:
			m.logger.WarnContext(ctx, "signing keys: reload failed; serving the keys loaded before", "err", err)
			failing = true
		case err == nil && failing:
			m.logger.InfoContext(ctx, "signing keys: reload works again")
			failing = false
		}
	}
}

// ActiveKID returns the kid of the key that signs for alg now.
func (m *Manager) ActiveKID(alg string) (string, error) {
	k, err := m.activeKey(alg)
	if err != nil {
		return "", err
	}
	return k.rec.KID, nil
}

// PublicKey returns the public key of a published (non-retired) key.
func (m *Manager) PublicKey(kid string) (crypto.PublicKey, bool) {
	k, ok := m.state.Load().byKID[kid]
	if !ok {
		return nil, false
	}
	return k.public.Key, true
}

func (m *Manager) activeKey(alg string) (*loadedKey, error) {
	if !supported(alg) {
		return nil, fmt.Errorf("%w: %q", ErrUnsupportedAlg, alg)
	}
	set := m.state.Load()
	r := activeRecord(set.records, alg, m.now())
	if r == nil {
		return nil, fmt.Errorf("%w for %s", ErrNoActiveKey, alg)
	}
	return set.byKID[r.KID], nil
}

func supported(alg string) bool {
	return alg == AlgRS256 || alg == AlgES256
}

// activeRecord picks the key that signs for alg at now: among non-retired
// keys of alg whose activation time has come, the latest to activate (ties
// broken by creation time, then kid, so that every instance agrees).
func activeRecord(recs []*storage.SigningKey, alg string, now time.Time) *storage.SigningKey {
	var best *storage.SigningKey
	for _, r := range recs {
		if r.Alg != alg || r.RetiredAt != nil || r.ActivateAt.After(now) {
			continue
		}
		if best == nil || later(r, best) {
			best = r
		}
	}
	return best
}

// later orders keys by activation, then creation, then kid.
func later(a, b *storage.SigningKey) bool {
	if !a.ActivateAt.Equal(b.ActivateAt) {
		return a.ActivateAt.After(b.ActivateAt)
	}
	if !a.CreatedAt.Equal(b.CreatedAt) {
		return a.CreatedAt.After(b.CreatedAt)
	}
	return a.KID > b.KID
}

// mayHaveLiveTokens reports whether tokens signed by k may still be valid:
// k was created less than lifetime ago, or it signed until a successor
// activated less than lifetime ago.
func mayHaveLiveTokens(recs []*storage.SigningKey, k *storage.SigningKey, now time.Time, lifetime time.Duration) bool {
	if now.Sub(k.CreatedAt) < lifetime {
		return true
	}
	if k.ActivateAt.After(now) {
		return false // never signed
	}
	// k stopped signing when the first later key of its algorithm activated.
	var stopped *time.Time
	for _, r := range recs {
		if r.Alg != k.Alg || r.RetiredAt != nil || r == k || r.ActivateAt.After(now) || !later(r, k) {
			continue
		}
		if stopped == nil || r.ActivateAt.Before(*stopped) {
			stopped = &r.ActivateAt
		}
	}
	return stopped == nil || now.Sub(*stopped) < lifetime
}
