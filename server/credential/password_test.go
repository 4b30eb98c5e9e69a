package credential

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"
)

// cheap keeps the tests fast; the format test uses the defaults.
var cheap = PasswordParams{Memory: 64, Time: 1, Threads: 1}

func TestHashFormat(t *testing.T) {
	p := NewPasswords(DefaultPasswordParams, 2, time.Second)
	h1, err := p.Hash(context.Background(), "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)
	if !re.MatchString(h1) {
		t.Fatalf("hash %q is not a PHC argon2id string with the default parameters", h1)
	}
	h2, _ := p.Hash(context.Background(), "correct horse battery")
	if h1 == h2 {
		t.Fatal("two hashes of one password are equal: salt not random")
	}
	if strings.Contains(h1, "correct horse") {
		t.Fatal("hash contains the password")
	}
}

func TestZeroParamsAreDefaults(t *testing.T) {
	p := NewPasswords(PasswordParams{}, 0, 0)
	if p.params != DefaultPasswordParams || p.maxWait != DefaultMaxWait || cap(p.slots) < 1 {
		t.Fatalf("NewPasswords(zero) = %+v, wait %v, slots %d", p.params, p.maxWait, cap(p.slots))
	}
}

func TestVerify(t *testing.T) {
	ctx := context.Background()
	p := NewPasswords(cheap, 2, time.Second)
	stored, err := p.Hash(ctx, "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	stronger := NewPasswords(PasswordParams{Memory: 128, Time: 1, Threads: 1}, 2, time.Second)

	tests := []struct {
		name       string
		p          *Passwords
		stored, pw string
		ok, rehash bool
	}{
		{"right password", p, stored, "correct horse battery", true, false},
		{"wrong password", p, stored, "correct horse batterY", false, false},
		{"empty password", p, stored, "", false, false},
		{"no stored hash", p, "", "correct horse battery", false, false},
		{"no stored hash, empty password", p, "", "", false, false},
		{"parameters changed", stronger, stored, "correct horse battery", true, true},
		{"parameters changed, wrong password", stronger, stored, "nope nope nope", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, rehash, err := tt.p.Verify(ctx, tt.stored, tt.pw)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if ok != tt.ok || rehash != tt.rehash {
				t.Fatalf("Verify = %v, %v; want %v, %v", ok, rehash, tt.ok, tt.rehash)
			}
		})
	}
}

func TestVerifyOtherSaltAndKeyLengthsNeedRehash(t *testing.T) {
	ctx := context.Background()
	p := NewPasswords(cheap, 1, time.Second)
	h := phc{params: cheap, salt: []byte("0123456789ab"), key: nil}
	h.key = h.derive("correct horse battery", 24)
	ok, rehash, err := p.Verify(ctx, h.String(), "correct horse battery")
	if err != nil || !ok || !rehash {
		t.Fatalf("Verify = %v, %v, %v; want true, true, nil", ok, rehash, err)
	}
}

func TestVerifyMalformed(t *testing.T) {
	p := NewPasswords(cheap, 1, time.Second)
	good, err := p.Hash(context.Background(), "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, "$")
	with := func(i int, v string) string {
		c := append([]string(nil), parts...)
		c[i] = v
		return strings.Join(c, "$")
	}
	tests := []struct{ name, stored string }{
		{"garbage", "not a hash"},
		{"bcrypt", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"},
		{"argon2i", with(1, "argon2i")},
		{"version 16", with(2, "v=16")},
		{"missing parameter", with(3, "m=64,t=1")},
		{"parameters out of order", with(3, "t=1,m=64,p=1")},
		{"zero time", with(3, "m=64,t=0,p=1")},
		{"zero threads", with(3, "m=64,t=1,p=0")},
		{"huge memory", with(3, "m=4294967295,t=1,p=1")},
		{"huge time", with(3, "m=64,t=100000,p=1")},
		{"threads overflow", with(3, "m=64,t=1,p=256")},
		{"negative", with(3, "m=-64,t=1,p=1")},
		{"bad salt encoding", with(4, "!!!!")},
		{"padded salt", with(4, parts[4]+"==")},
		{"short salt", with(4, "AAAA")},
		{"bad hash encoding", with(5, "****")},
		{"short hash", with(5, "AAAAAAAA")},
		{"extra field", good + "$x"},
		{"missing field", strings.Join(parts[:5], "$")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, _, err := p.Verify(context.Background(), tt.stored, "correct horse battery")
			if !errors.Is(err, ErrMalformedHash) || ok {
				t.Fatalf("Verify = %v, %v; want ErrMalformedHash", ok, err)
			}
			if strings.Contains(err.Error(), tt.stored) {
				t.Fatalf("error %q quotes the stored hash", err)
			}
		})
	}
}

func TestConcurrencyLimit(t *testing.T) {
	ctx := context.Background()
	p := NewPasswords(cheap, 1, time.Millisecond)
	stored, err := p.Hash(ctx, "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}

	// Hold the only slot, as a hash in flight would.
	if err := p.acquire(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Hash(ctx, "correct horse battery"); !errors.Is(err, ErrBusy) {
		t.Fatalf("Hash with no free slot: %v, want ErrBusy", err)
	}
	if _, _, err := p.Verify(ctx, stored, "correct horse battery"); !errors.Is(err, ErrBusy) {
		t.Fatalf("Verify with no free slot: %v, want ErrBusy", err)
	}
	if _, _, err := p.Verify(ctx, "", "correct horse battery"); !errors.Is(err, ErrBusy) {
		t.Fatalf("Verify of an unknown user with no free slot: %v, want ErrBusy", err)
	}

	// A waiter that would wait long enough is released by cancellation.
	patient := NewPasswords(cheap, 1, time.Hour)
	if err := patient.acquire(ctx); err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		_, err := patient.Hash(cctx, "correct horse battery")
		done <- err
	}()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Hash after cancellation: %v, want context.Canceled", err)
	}

	// ...and gets the slot once it is released.
	go func() {
		_, err := patient.Hash(ctx, "correct horse battery")
		done <- err
	}()
	patient.release()
	if err := <-done; err != nil {
		t.Fatalf("Hash after the slot was released: %v", err)
	}

	p.release()
	if ok, _, err := p.Verify(ctx, stored, "correct horse battery"); err != nil || !ok {
		t.Fatalf("Verify after release = %v, %v", ok, err)
	}
}

func TestCanceledContext(t *testing.T) {
	p := NewPasswords(cheap, 1, time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.Hash(ctx, "correct horse battery"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Hash with a canceled context: %v", err)
	}
}

func TestValidatePassword(t *testing.T) {
	tests := []struct {
		name string
		pw   string
		want error
	}{
		{"empty", "", ErrPasswordTooShort},
		{"9 bytes", "123456789", ErrPasswordTooShort},
		{"10 bytes", "k3#vQ9!mzT", nil},
		{"common", "1234567890", ErrPasswordCommon},
		{"common, other case", "PassWord123", ErrPasswordCommon},
		{"4 characters, 16 bytes", "😀😀😀😀", nil},
		{"1024 bytes", strings.Repeat("a", 1024), nil},
		{"1025 bytes", strings.Repeat("a", 1025), ErrPasswordTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidatePassword(tt.pw)
			if !errors.Is(err, tt.want) {
				t.Fatalf("ValidatePassword = %v, want %v", err, tt.want)
			}
			if err != nil && tt.pw != "" && strings.Contains(err.Error(), tt.pw) {
				t.Fatalf("error %q quotes the password", err)
			}
		})
	}
}
