package keys

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ory/fosite/token/jwt"

	"github.com/gatehouse/gatehouse/storage"
)

func TestEnsureKeysIsIdempotent(t *testing.T) {
	ctx := context.Background()
	store, _ := openStore(t)
	m := newManager(t, store, newClock())

	for range 3 {
		if err := m.EnsureKeys(ctx); err != nil {
			t.Fatalf("EnsureKeys: %v", err)
		}
	}
	infos, err := m.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(infos) != 2 {
		t.Fatalf("%d keys after three EnsureKeys, want 2 (one per algorithm)", len(infos))
	}
	for _, alg := range Algorithms() {
		kid := mustActive(t, m, alg)
		if jwksKIDs(m)[kid] != alg {
			t.Errorf("active %s key %q not published", alg, kid)
		}
	}
	for _, k := range infos {
		if !k.Active || k.RetiredAt != nil || !k.ActivateAt.Equal(k.CreatedAt) {
			t.Errorf("first-start key %+v: want active at once", k)
		}
	}
}

func TestEnsureKeysConcurrentStart(t *testing.T) {
	forEachBackend(t, testEnsureKeysConcurrentStart)
}

func testEnsureKeysConcurrentStart(t *testing.T, store storage.Store) {
	ctx := context.Background()
	clk := newClock()
	managers := []*Manager{newManager(t, store, clk), newManager(t, store, clk), newManager(t, store, clk)}

	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make([]error, len(managers))
	for i, m := range managers {
		wg.Go(func() {
			<-start
			errs[i] = m.EnsureKeys(ctx)
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("instance %d: EnsureKeys: %v", i, err)
		}
	}
	// Extra keys are harmless; what matters is that every instance signs
	// with the same key once it has reloaded.
	for _, alg := range Algorithms() {
		var want string
		for i, m := range managers {
			if err := m.Reload(ctx); err != nil {
				t.Fatal(err)
			}
			got := mustActive(t, m, alg)
			if i == 0 {
				want = got
			} else if got != want {
				t.Fatalf("%s: instance %d signs with %q, instance 0 with %q", alg, i, got, want)
			}
		}
	}
}

func TestRotationPublishesFirstAndSwitchesAfterCacheLifetime(t *testing.T) {
	ctx := context.Background()
	store, _ := openStore(t)
	clk := newClock()
	m := newManager(t, store, clk)
	if err := m.EnsureKeys(ctx); err != nil {
		t.Fatal(err)
	}
	for _, alg := range Algorithms() {
		t.Run(alg, func(t *testing.T) {
			old := mustActive(t, m, alg)
			rotatedAt := clk.Now()
			rec, err := m.Rotate(ctx, alg, false)
			if err != nil {
				t.Fatalf("Rotate: %v", err)
			}
			if rec.Alg != alg || rec.KID == old {
				t.Fatalf("Rotate returned %s key %q", rec.Alg, rec.KID)
			}
			wantActivation := rotatedAt.Add(DefaultCacheLifetime + 10*time.Second)
			if !rec.ActivateAt.Equal(wantActivation) {
				t.Fatalf("ActivateAt = %v, want %v", rec.ActivateAt, wantActivation)
			}
			if jwksKIDs(m)[rec.KID] != alg {
				t.Fatal("rotated key is not published at once")
			}
			if got := mustActive(t, m, alg); got != old {
				t.Fatalf("signing with %q right after rotation, want the old key %q", got, old)
			}
			clk.Set(wantActivation.Add(-time.Microsecond))
			if got := mustActive(t, m, alg); got != old {
				t.Fatalf("signing with %q just before activation, want the old key", got)
			}
			clk.Set(wantActivation)
			if got := mustActive(t, m, alg); got != rec.KID {
				t.Fatalf("signing with %q at activation, want the new key %q", got, rec.KID)
			}
			if jwksKIDs(m)[old] != alg {
				t.Fatal("old key left the JWKS on rotation; only retirement removes it")
			}
		})
	}
}

func TestRotateImmediate(t *testing.T) {
	ctx := context.Background()
	store, _ := openStore(t)
	m := newManager(t, store, newClock())
	if err := m.EnsureKeys(ctx); err != nil {
		t.Fatal(err)
	}
	rec, err := m.Rotate(ctx, AlgES256, true)
	if err != nil {
		t.Fatal(err)
	}
	if got := mustActive(t, m, AlgES256); got != rec.KID {
		t.Fatalf("active ES256 key %q, want the immediately rotated %q", got, rec.KID)
	}
	if _, err := m.Rotate(ctx, "HS256", true); !errors.Is(err, ErrUnsupportedAlg) {
		t.Fatalf("Rotate(HS256): %v, want ErrUnsupportedAlg", err)
	}
}

func TestRotateWithoutActiveKeySignsAtOnce(t *testing.T) {
	ctx := context.Background()
	store, _ := openStore(t)
	m := newManager(t, store, newClock())
	rec, err := m.Rotate(ctx, AlgRS256, false)
	if err != nil {
		t.Fatal(err)
	}
	if got := mustActive(t, m, AlgRS256); got != rec.KID {
		t.Fatalf("first key is not active at once (active %q)", got)
	}
	if _, err := m.ActiveKID(AlgES256); !errors.Is(err, ErrNoActiveKey) {
		t.Fatalf("ActiveKID(ES256) with no key: %v", err)
	}
}

func TestTokenOfPreviousKeyValidatesAfterRotation(t *testing.T) {
	ctx := context.Background()
	store, _ := openStore(t)
	clk := newClock()
	m := newManager(t, store, clk)
	if err := m.EnsureKeys(ctx); err != nil {
		t.Fatal(err)
	}
	s := m.Signer()
	claims := func() jwt.MapClaims {
		// fosite checks exp and iat against the real clock.
		return jwt.MapClaims{"sub": "u1", "exp": time.Now().Add(time.Hour).Unix(), "iat": time.Now().Unix()}
	}
	oldToken, _, err := s.Generate(ctx, claims(), &jwt.Headers{})
	if err != nil {
		t.Fatal(err)
	}
	rec, err := m.Rotate(ctx, AlgRS256, true)
	if err != nil {
		t.Fatal(err)
	}
	newToken, _, err := s.Generate(ctx, claims(), &jwt.Headers{})
	if err != nil {
		t.Fatal(err)
	}
	if kidOf(t, newToken) != rec.KID || kidOf(t, oldToken) == rec.KID {
		t.Fatal("tokens are not signed by the key active when they were made")
	}
	for name, tok := range map[string]string{"old": oldToken, "new": newToken} {
		if _, err := s.Validate(ctx, tok); err != nil {
			t.Errorf("%s token after rotation: %v", name, err)
		}
	}
}

func TestSecondInstanceFollowsRotation(t *testing.T) {
	forEachBackend(t, testSecondInstanceFollowsRotation)
}

func testSecondInstanceFollowsRotation(t *testing.T, store storage.Store) {
	ctx := context.Background()
	clk := newClock()
	m1 := newManager(t, store, clk)
	m2 := newManager(t, store, clk)
	if err := m1.EnsureKeys(ctx); err != nil {
		t.Fatal(err)
	}
	if err := m2.EnsureKeys(ctx); err != nil {
		t.Fatal(err)
	}
	old := mustActive(t, m2, AlgRS256)

	rec, err := m1.Rotate(ctx, AlgRS256, true)
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := m1.Signer().Generate(ctx, jwt.MapClaims{"sub": "u1"}, &jwt.Headers{})
	if err != nil {
		t.Fatal(err)
	}
	if got := mustActive(t, m2, AlgRS256); got != old {
		t.Fatalf("instance 2 changed keys before reloading (%q)", got)
	}
	if err := m2.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if got := mustActive(t, m2, AlgRS256); got != rec.KID {
		t.Fatalf("instance 2 signs with %q after reload, want %q", got, rec.KID)
	}
	if _, err := m2.Signer().Validate(ctx, tok); err != nil {
		t.Fatalf("instance 2 rejects a token of the new key: %v", err)
	}
}

func TestRunFollowsTheDatabase(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	store, _ := openStore(t)
	clk := newClock()
	m1 := newManager(t, store, clk)
	if err := m1.EnsureKeys(ctx); err != nil {
		t.Fatal(err)
	}
	m2 := newManager(t, store, clk)
	m2.pollInterval = 10 * time.Millisecond
	done := make(chan struct{})
	go func() {
		m2.Run(ctx)
		close(done)
	}()
	rec, err := m1.Rotate(ctx, AlgES256, true)
	if err != nil {
		t.Fatal(err)
	}
	// Wait for the condition, not for a time: the deadline only ends a hang.
	deadline := time.Now().Add(10 * time.Second)
	for {
		if kid, _ := m2.ActiveKID(AlgES256); kid == rec.KID {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("instance 2 did not follow the rotation")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
}

func TestRetire(t *testing.T) {
	ctx := context.Background()
	store, _ := openStore(t)
	clk := newClock()
	m := newManager(t, store, clk)
	if err := m.EnsureKeys(ctx); err != nil {
		t.Fatal(err)
	}
	const lifetime = time.Hour
	first := mustActive(t, m, AlgRS256)
	firstToken, _, err := m.Signer().Generate(ctx, jwt.MapClaims{"sub": "u1"}, &jwt.Headers{})
	if err != nil {
		t.Fatal(err)
	}

	// Age the first key, then supersede it: it signed until just now.
	clk.Advance(2 * lifetime)
	second, err := m.Rotate(ctx, AlgRS256, true)
	if err != nil {
		t.Fatal(err)
	}
	pending, err := m.Rotate(ctx, AlgRS256, false)
	if err != nil {
		t.Fatal(err)
	}

	steps := []struct {
		name    string
		advance time.Duration
		kid     string
		force   bool
		want    error
	}{
		{"active key", 0, second.KID, false, ErrActiveKey},
		{"active key, forced", 0, second.KID, true, ErrActiveKey},
		{"old key superseded just now", 0, first, false, ErrKeyTooYoung},
		{"pending key created just now", 0, pending.KID, false, ErrKeyTooYoung},
		{"unknown key", 0, "no-such-kid", true, storage.ErrNotFound},
		{"pending key created just now, forced", 0, pending.KID, true, nil},
		{"old key, a lifetime after it was superseded", lifetime, first, false, nil},
		{"retired key again", 0, first, false, nil},
	}
	for _, st := range steps {
		clk.Advance(st.advance)
		err := m.Retire(ctx, st.kid, st.force, lifetime)
		if !errors.Is(err, st.want) {
			t.Fatalf("%s: Retire = %v, want %v", st.name, err, st.want)
		}
	}

	if _, ok := jwksKIDs(m)[first]; ok {
		t.Fatal("retired key still in the JWKS")
	}
	if _, ok := m.PublicKey(first); ok {
		t.Fatal("retired key still verifies")
	}
	_, err = m.Signer().Validate(ctx, firstToken)
	var ve *jwt.ValidationError
	if !errors.As(err, &ve) || !ve.Has(jwt.ValidationErrorUnverifiable) {
		t.Fatalf("token of a retired key: %v, want an unverifiable ValidationError", err)
	}
	infos, err := m.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range infos {
		if k.KID == first && (k.RetiredAt == nil || k.Active) {
			t.Fatalf("List shows the retired key as %+v", k)
		}
	}
	// The pending key's activation time has passed, but it was retired first.
	if got := mustActive(t, m, AlgRS256); got != second.KID {
		t.Fatalf("a retired pending key became active (%q)", got)
	}
}

func TestPrivateKeysAreSealedAtRest(t *testing.T) {
	ctx := context.Background()
	store, dir := openStore(t)
	m := newManager(t, store, newClock())
	if err := m.EnsureKeys(ctx); err != nil {
		t.Fatal(err)
	}
	recs, err := store.ListSigningKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var files [][]byte
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, b)
	}
	for _, r := range recs {
		der, err := x509.MarshalPKCS8PrivateKey(m.state.Load().byKID[r.KID].private)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(r.PrivateKeyCiphertext, der) || bytes.Contains(r.PublicJWK, der) {
			t.Fatalf("key %q: private key stored in clear", r.KID)
		}
		for _, f := range files {
			if bytes.Contains(f, der) {
				t.Fatalf("key %q: private key in clear in the database files", r.KID)
			}
		}
	}

	// The ciphertext is bound to its kid: copied to another row, it does not open.
	stolen := *recs[0]
	stolen.KID = "copied-row"
	stolen.CreatedAt = stolen.CreatedAt.Add(time.Microsecond) // so that it is the active key
	stolen.PublicJWK = bytes.Replace(stolen.PublicJWK, []byte(recs[0].KID), []byte("copied-row"), 1)
	if err := store.CreateSigningKey(ctx, &stolen); err != nil {
		t.Fatal(err)
	}
	if err := m.Reload(ctx); err == nil {
		t.Fatal("Reload opened a private key moved to another row")
	}
	if got := mustActive(t, m, recs[0].Alg); got != "copied-row" {
		t.Fatalf("active key %q, want the copied row", got)
	}
	if _, _, err := m.Signer().Generate(ctx, jwt.MapClaims{}, &jwt.Headers{Extra: map[string]any{"alg": recs[0].Alg}}); err == nil {
		t.Fatal("signed with a key whose private part did not open")
	}
	// The other keys still work.
	other := AlgES256
	if recs[0].Alg == AlgES256 {
		other = AlgRS256
	}
	if _, _, err := m.Signer().Generate(ctx, jwt.MapClaims{}, &jwt.Headers{Extra: map[string]any{"alg": other}}); err != nil {
		t.Fatalf("a bad key stopped the others: %v", err)
	}
}
