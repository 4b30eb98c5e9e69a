package mfa

import (
	"bytes"
	"context"
	"errors"
	"image/png"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
	"github.com/pquerna/otp/totp"

	"github.com/gatehouse/gatehouse/server/secret"
	"github.com/gatehouse/gatehouse/server/throttle"
	"github.com/gatehouse/gatehouse/storage"
	"github.com/gatehouse/gatehouse/storage/sqlstore"
	"github.com/gatehouse/gatehouse/storage/sqlstore/sqlstoretest"
)

// clock is a test clock that moves only when told.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type fixture struct {
	svc   *Service
	store storage.Store
	clock *clock
	ring  *secret.Keyring
	user  *storage.User
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := t.Context()
	store := sqlstoretest.SQLite(t, sqlstore.Options{})
	ring, err := secret.NewKeyring([]byte("0123456789abcdef0123456789abcdef-mfa-test"))
	if err != nil {
		t.Fatal(err)
	}
	user := &storage.User{ID: "u-1", Username: "alice"}
	if err := store.CreateUser(ctx, user); err != nil {
		t.Fatal(err)
	}
	// Ten seconds into a step, so that ±1 step stays unambiguous.
	c := &clock{t: time.Unix(Step(time.Now())*period+10, 0).UTC()}
	svc := New(Config{
		Store: store, Sealer: ring.AEAD(secret.PurposeAtRest), Digester: ring.Digester(secret.PurposeRecoveryCode),
		Issuer: "Gatehouse", Now: c.Now,
	})
	return &fixture{svc: svc, store: store, clock: c, ring: ring, user: user}
}

func code(t *testing.T, secretB32 string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(secretB32, at, validateOpts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// enroll runs a whole enrollment and returns the secret and recovery codes.
func (f *fixture) enroll(t *testing.T) (string, []string) {
	t.Helper()
	e, err := f.svc.StartEnrollment(t.Context(), f.user)
	if err != nil {
		t.Fatal(err)
	}
	codes, err := f.svc.ConfirmEnrollment(t.Context(), f.user, code(t, e.Secret, f.clock.Now()))
	if err != nil {
		t.Fatal(err)
	}
	return e.Secret, codes
}

func decodeQR(t *testing.T, pngBytes []byte) string {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(pngBytes))
	if err != nil {
		t.Fatalf("QR code is not a PNG: %v", err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	// A pure, axis-aligned code with its quiet zone: decoded as such (ZXing's
	// finder-pattern search, meant for camera pictures, misses about 1 in 100
	// synthetic codes that decode fine this way).
	res, err := qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]interface{}{gozxing.DecodeHintType_PURE_BARCODE: true})
	if err != nil {
		t.Fatalf("decode QR code: %v", err)
	}
	return res.GetText()
}

func TestEnrollment(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	e, err := f.svc.StartEnrollment(ctx, f.user)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(e.URI)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if u.Scheme != "otpauth" || u.Host != "totp" || u.Path != "/Gatehouse:alice" || q.Get("secret") != e.Secret ||
		q.Get("issuer") != "Gatehouse" || q.Get("algorithm") != "SHA1" || q.Get("digits") != "6" || q.Get("period") != "30" {
		t.Fatalf("otpauth URI %q lacks the expected parameters", e.URI)
	}
	if len(e.Secret) != 32 {
		t.Fatalf("secret has %d base32 characters, want 32 (160 bits)", len(e.Secret))
	}
	if got := decodeQR(t, e.QRCode); got != e.URI {
		t.Fatalf("QR code decodes to %q, want %q", got, e.URI)
	}
	if !e.ExpiresAt.Equal(f.clock.Now().Add(10 * time.Minute)) {
		t.Fatalf("pending enrollment expires at %v, want 10 minutes from now", e.ExpiresAt)
	}
	again, err := f.svc.StartEnrollment(ctx, f.user)
	if err != nil || again.Secret != e.Secret {
		t.Fatal("reloading the enrollment changed the secret")
	}
	// A pending enrollment gates nothing.
	if enrolled, _ := f.svc.Enrolled(ctx, f.user.ID); enrolled {
		t.Fatal("a pending enrollment counts as enrolled")
	}
	if _, err := f.svc.Verify(ctx, f.user.ID, code(t, e.Secret, f.clock.Now())); !errors.Is(err, ErrNotEnrolled) {
		t.Fatalf("Verify with a pending enrollment: %v, want ErrNotEnrolled", err)
	}

	for _, wrong := range []string{"", "12345", "abcdef", code(t, e.Secret, f.clock.Now().Add(-2*period*time.Second))} {
		if _, err := f.svc.ConfirmEnrollment(ctx, f.user, wrong); !errors.Is(err, ErrInvalidCode) {
			t.Fatalf("confirm with %q: %v, want ErrInvalidCode", wrong, err)
		}
	}
	good := code(t, e.Secret, f.clock.Now())
	codes, err := f.svc.ConfirmEnrollment(ctx, f.user, good[:3]+" "+good[3:])
	if err != nil {
		t.Fatal(err)
	}
	if len(codes) != 10 || len(slices.Compact(slices.Sorted(slices.Values(codes)))) != 10 {
		t.Fatalf("want 10 distinct recovery codes, got %v", codes)
	}
	for _, c := range codes {
		if len(c) != 14 || c[4] != '-' || c[9] != '-' {
			t.Fatalf("recovery code %q is not XXXX-XXXX-XXXX", c)
		}
	}
	if _, err := f.svc.ConfirmEnrollment(ctx, f.user, good); !errors.Is(err, ErrNoEnrollment) {
		t.Fatalf("second confirmation: %v, want ErrNoEnrollment", err)
	}
	if _, err := f.svc.StartEnrollment(ctx, f.user); !errors.Is(err, ErrAlreadyEnrolled) {
		t.Fatalf("enrolling twice: %v, want ErrAlreadyEnrolled", err)
	}
	// The confirmation code's step counts as used.
	if _, err := f.svc.Verify(ctx, f.user.ID, good); !errors.Is(err, ErrCodeUsed) {
		t.Fatalf("the confirmation code worked again: %v", err)
	}
	st, err := f.svc.Status(ctx, f.user.ID)
	if err != nil || !st.Enrolled || st.RecoveryCodesLeft != 10 || !st.Since.Equal(f.clock.Now()) {
		t.Fatalf("status after enrollment: %+v, %v", st, err)
	}
}

func TestEnrollmentExpires(t *testing.T) {
	f := newFixture(t)
	e, err := f.svc.StartEnrollment(t.Context(), f.user)
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(10 * time.Minute)
	if _, err := f.svc.ConfirmEnrollment(t.Context(), f.user, code(t, e.Secret, f.clock.Now())); !errors.Is(err, ErrNoEnrollment) {
		t.Fatalf("confirming an expired enrollment: %v, want ErrNoEnrollment", err)
	}
	fresh, err := f.svc.StartEnrollment(t.Context(), f.user)
	if err != nil || fresh.Secret == e.Secret {
		t.Fatalf("after expiry a new secret is due: %v", err)
	}
}

func TestSecretIsSealedAndBoundToTheUser(t *testing.T) {
	f := newFixture(t)
	secretB32, _ := f.enroll(t)
	c, err := f.store.FindTOTPCredential(t.Context(), f.user.ID)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := b32.DecodeString(secretB32)
	if bytes.Contains(c.SecretCiphertext, []byte(secretB32)) || bytes.Contains(c.SecretCiphertext, raw) {
		t.Fatal("the stored credential contains the secret in clear")
	}
	aead := f.ring.AEAD(secret.PurposeAtRest)
	if _, err := aead.Open(c.SecretCiphertext, credentialAD("u-2")); err == nil {
		t.Fatal("the sealed secret opens under another user's id")
	}
	if pt, err := aead.Open(c.SecretCiphertext, credentialAD(f.user.ID)); err != nil || string(pt) != secretB32 {
		t.Fatal("the sealed secret does not open under its own user id")
	}
}

func TestVerifyWindowAndReplay(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	secretB32, _ := f.enroll(t)
	now := f.clock.Now()
	step := func(d int) time.Time { return now.Add(time.Duration(d*period) * time.Second) }
	for _, tc := range []struct {
		name string
		at   time.Time
		want error
	}{
		{"two steps behind", step(-2), ErrInvalidCode},
		{"two steps ahead", step(2), ErrInvalidCode},
		{"the enrollment's own step", step(0), ErrCodeUsed},
		{"one step ahead", step(1), nil},
		{"replayed", step(1), ErrCodeUsed},
		// In the window, but older than the last accepted step.
		{"one step behind, after a later step", step(-1), ErrCodeUsed},
	} {
		_, err := f.svc.Verify(ctx, f.user.ID, code(t, secretB32, tc.at))
		if !errors.Is(err, tc.want) {
			t.Fatalf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	// One step behind is accepted when it is newer than the last step.
	f.clock.Advance(3 * period * time.Second)
	if m, err := f.svc.Verify(ctx, f.user.ID, code(t, secretB32, f.clock.Now().Add(-period*time.Second))); err != nil || m != MethodTOTP {
		t.Fatalf("code from one step behind: %v, %v", m, err)
	}
}

func TestRecoveryCodes(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	_, codes := f.enroll(t)
	// Typed in lower case without hyphens: still accepted, once.
	typed := strings.ToLower(strings.ReplaceAll(codes[3], "-", " "))
	if m, err := f.svc.Verify(ctx, f.user.ID, typed); err != nil || m != MethodRecoveryCode {
		t.Fatalf("recovery code: %v, %v", m, err)
	}
	if _, err := f.svc.Verify(ctx, f.user.ID, codes[3]); !errors.Is(err, ErrInvalidCode) {
		t.Fatalf("a used recovery code: %v, want ErrInvalidCode", err)
	}
	if st, _ := f.svc.Status(ctx, f.user.ID); st.RecoveryCodesLeft != 9 {
		t.Fatalf("%d codes left, want 9", st.RecoveryCodesLeft)
	}
	// The fifth attempt in a row (the new code below) is still checked.
	for _, wrong := range []string{"AAAA-AAAA-AAAA", "not a code"} {
		if _, err := f.svc.Verify(ctx, f.user.ID, wrong); !errors.Is(err, ErrInvalidCode) {
			t.Fatalf("%q: %v, want ErrInvalidCode", wrong, err)
		}
	}
	fresh, err := f.svc.RegenerateRecoveryCodes(ctx, f.user.ID)
	if err != nil || len(fresh) != 10 {
		t.Fatalf("regenerate: %d codes, %v", len(fresh), err)
	}
	if _, err := f.svc.Verify(ctx, f.user.ID, codes[4]); !errors.Is(err, ErrInvalidCode) {
		t.Fatalf("an old code after regeneration: %v, want ErrInvalidCode", err)
	}
	if _, err := f.svc.Verify(ctx, f.user.ID, fresh[0]); err != nil {
		t.Fatalf("a new code: %v", err)
	}

	// A digest copied to another user's rows does not verify there.
	bob := &storage.User{ID: "u-2", Username: "bob"}
	if err := f.store.CreateUser(ctx, bob); err != nil {
		t.Fatal(err)
	}
	if err := f.store.ActivateTOTP(ctx, &storage.TOTPCredential{UserID: bob.ID, SecretCiphertext: []byte("x")}, nil); err != nil {
		t.Fatal(err)
	}
	stolen, _ := f.store.ListRecoveryCodes(ctx, f.user.ID)
	copied := []*storage.RecoveryCode{{ID: "copy", UserID: bob.ID, Digest: stolen[1].Digest}}
	if err := f.store.ReplaceRecoveryCodes(ctx, bob.ID, copied); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Verify(ctx, bob.ID, fresh[1]); !errors.Is(err, ErrInvalidCode) {
		t.Fatalf("alice's code worked for bob: %v", err)
	}
}

func TestLockout(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	secretB32, _ := f.enroll(t)
	fail := func(n int) {
		t.Helper()
		for i := range n {
			if _, err := f.svc.Verify(ctx, f.user.ID, "000000"); !errors.Is(err, ErrInvalidCode) {
				// 000000 may be the real code once in a million runs.
				t.Fatalf("wrong code %d: %v", i+1, err)
			}
		}
	}
	locked := func(want time.Duration) {
		t.Helper()
		f.clock.Advance(period * time.Second)
		now := f.clock.Now()
		_, err := f.svc.Verify(ctx, f.user.ID, code(t, secretB32, now))
		var le *LockedError
		if !errors.As(err, &le) {
			t.Fatalf("a correct code while locked: %v, want *LockedError", err)
		}
		if got := le.Until.Sub(now) + period*time.Second; got != want {
			t.Fatalf("locked for %v, want %v", got, want)
		}
	}

	// Four failures, then the window passes: no lock.
	fail(4)
	f.clock.Advance(10*time.Minute + time.Second)
	fail(4)
	f.clock.Advance(period * time.Second)
	if _, err := f.svc.Verify(ctx, f.user.ID, code(t, secretB32, f.clock.Now())); err != nil {
		t.Fatalf("8 failures in two windows locked the second factor: %v", err)
	}

	// Five failures lock for 1, then 5, then 15 minutes; recovery codes are
	// refused too while locked.
	for _, d := range []time.Duration{time.Minute, 5 * time.Minute, 15 * time.Minute, 15 * time.Minute} {
		fail(5)
		locked(d)
		f.clock.Advance(d - period*time.Second - time.Second)
		if _, err := f.svc.Verify(ctx, f.user.ID, "AAAA-AAAA-AAAA"); err == nil || errors.Is(err, ErrInvalidCode) {
			t.Fatalf("a recovery code was checked while locked: %v", err)
		}
		f.clock.Advance(time.Second)
	}
	// A success resets the growth.
	f.clock.Advance(period * time.Second)
	if _, err := f.svc.Verify(ctx, f.user.ID, code(t, secretB32, f.clock.Now())); err != nil {
		t.Fatalf("after the lock: %v", err)
	}
	fail(5)
	locked(time.Minute)

	// `gatehouse users unlock` lifts the lock.
	if err := throttle.Unlock(ctx, f.store, "alice", f.user.ID); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(period * time.Second)
	if _, err := f.svc.Verify(ctx, f.user.ID, code(t, secretB32, f.clock.Now())); err != nil {
		t.Fatalf("after unlock: %v", err)
	}
}

func TestDisable(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	secretB32, _ := f.enroll(t)
	if err := f.svc.Disable(ctx, f.user.ID); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Disable(ctx, f.user.ID); !errors.Is(err, ErrNotEnrolled) {
		t.Fatalf("second disable: %v", err)
	}
	f.clock.Advance(period * time.Second)
	if _, err := f.svc.Verify(ctx, f.user.ID, code(t, secretB32, f.clock.Now())); !errors.Is(err, ErrNotEnrolled) {
		t.Fatalf("verify after disable: %v", err)
	}
	if _, err := f.svc.RegenerateRecoveryCodes(ctx, f.user.ID); !errors.Is(err, ErrNotEnrolled) {
		t.Fatalf("regenerate after disable: %v", err)
	}
	if st, _ := f.svc.Status(context.Background(), f.user.ID); st.Enrolled {
		t.Fatal("still enrolled after disable")
	}
}
