package credential

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/argon2"
)

// PasswordParams are the argon2id cost parameters.
type PasswordParams struct {
	// Memory in KiB.
	Memory  uint32
	Time    uint32
	Threads uint8
}

// DefaultPasswordParams are OWASP's argon2id recommendation: m=19 MiB, t=2, p=1.
var DefaultPasswordParams = PasswordParams{Memory: 19 * 1024, Time: 2, Threads: 1}

// DefaultMaxWait is how long a hash waits for a free slot when NewPasswords
// is given no limit.
const DefaultMaxWait = 2 * time.Second

const (
	minPasswordLength = 10
	maxPasswordLength = 1024
	saltLength        = 16
	keyLength         = 32

	// Bounds on a stored hash, so a corrupt row cannot make Verify allocate
	// gigabytes or spin for minutes.
	maxMemory  = 1 << 20 // KiB, 1 GiB
	maxTime    = 64
	minSaltLen = 8
	maxSaltLen = 64
	minKeyLen  = 16
	maxKeyLen  = 64
)

var (
	// ErrBusy is returned when no hashing slot frees up within the wait limit;
	// handlers answer 503 with Retry-After.
	ErrBusy = errors.New("credential: too many password checks in progress")
	// ErrMalformedHash is returned for a stored hash that is not an argon2id
	// PHC string Gatehouse can verify.
	ErrMalformedHash = errors.New("credential: malformed password hash")
	// ErrPasswordTooShort is the user-safe refusal of a short password.
	ErrPasswordTooShort = fmt.Errorf("the password must be at least %d characters long", minPasswordLength)
	// ErrPasswordTooLong is the user-safe refusal of an overlong password.
	ErrPasswordTooLong = fmt.Errorf("the password must be at most %d bytes long", maxPasswordLength)
)

// ValidatePassword checks the policy for a new password: 10 to 1024 bytes,
// and not one of the most common passwords (IsCommonPassword).
func ValidatePassword(pw string) error {
	switch {
	case len(pw) < minPasswordLength:
		return ErrPasswordTooShort
	case len(pw) > maxPasswordLength:
		return ErrPasswordTooLong
	case IsCommonPassword(pw):
		return ErrPasswordCommon
	}
	return nil
}

// Passwords hashes and verifies passwords with argon2id. At most
// maxConcurrent hashes run at once: each costs ~19 MiB and tens of
// milliseconds, so unbounded logins could exhaust memory.
type Passwords struct {
	params  PasswordParams
	slots   chan struct{}
	maxWait time.Duration
	// dummy is a hash with the current parameters that Verify checks against
	// when there is no stored hash, so an unknown user costs the same time.
	dummy phc
}

// NewPasswords returns a hasher with the given parameters (zero fields take
// the defaults). maxConcurrent < 1 means one per CPU; maxWait <= 0 means
// DefaultMaxWait.
func NewPasswords(params PasswordParams, maxConcurrent int, maxWait time.Duration) *Passwords {
	if params.Memory == 0 {
		params.Memory = DefaultPasswordParams.Memory
	}
	if params.Time == 0 {
		params.Time = DefaultPasswordParams.Time
	}
	if params.Threads == 0 {
		params.Threads = DefaultPasswordParams.Threads
	}
	if maxConcurrent < 1 {
		maxConcurrent = runtime.NumCPU()
	}
	if maxWait <= 0 {
		maxWait = DefaultMaxWait
	}
	return &Passwords{
		params:  params,
		slots:   make(chan struct{}, maxConcurrent),
		maxWait: maxWait,
		dummy: phc{
			params: params,
			salt:   make([]byte, saltLength),
			key:    make([]byte, keyLength),
		},
	}
}

// Hash returns the PHC string of password under the current parameters,
// e.g. $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>.
func (p *Passwords) Hash(ctx context.Context, password string) (string, error) {
	h := phc{params: p.params, salt: make([]byte, saltLength)}
	if _, err := rand.Read(h.salt); err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	if err := p.acquire(ctx); err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	defer p.release()
	h.key = h.derive(password, keyLength)
	return h.String(), nil
}

// Verify checks password against the stored PHC string. An empty stored hash
// (unknown user, no password) still costs one hash and returns false, so the
// answer time does not tell whether the account exists. needsRehash reports
// that the hash was made with other parameters and should be replaced after
// a successful login.
func (p *Passwords) Verify(ctx context.Context, stored, password string) (ok, needsRehash bool, err error) {
	h := p.dummy
	if stored != "" {
		h, err = parsePHC(stored)
		if err != nil {
			return false, false, fmt.Errorf("verify password: %w", err)
		}
	}
	if err := p.acquire(ctx); err != nil {
		return false, false, fmt.Errorf("verify password: %w", err)
	}
	defer p.release()
	key := h.derive(password, len(h.key))
	if stored == "" {
		return false, false, nil
	}
	if subtle.ConstantTimeCompare(key, h.key) != 1 {
		return false, false, nil
	}
	return true, h.params != p.params || len(h.salt) != saltLength || len(h.key) != keyLength, nil
}

// acquire waits for a hashing slot for at most maxWait.
func (p *Passwords) acquire(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case p.slots <- struct{}{}:
		return nil
	default:
	}
	timer := time.NewTimer(p.maxWait)
	defer timer.Stop()
	select {
	case p.slots <- struct{}{}:
		return nil
	case <-timer.C:
		return ErrBusy
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (p *Passwords) release() { <-p.slots }

// phc is a parsed argon2id PHC string.
type phc struct {
	params    PasswordParams
	salt, key []byte
}

func (h phc) derive(password string, n int) []byte {
	return argon2.IDKey([]byte(password), h.salt, h.params.Time, h.params.Memory, h.params.Threads, uint32(n))
}

func (h phc) String() string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, h.params.Memory, h.params.Time, h.params.Threads,
		base64.RawStdEncoding.EncodeToString(h.salt), base64.RawStdEncoding.EncodeToString(h.key))
}

// parsePHC parses $argon2id$v=19$m=M,t=T,p=P$salt$key strictly. Errors never
// quote the input: it is a password hash.
func parsePHC(s string) (phc, error) {
	var h phc
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return h, fmt.Errorf("%w: not an argon2id PHC string", ErrMalformedHash)
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return h, fmt.Errorf("%w: unsupported argon2 version", ErrMalformedHash)
	}
	var err error
	if h.params, err = parseParams(parts[3]); err != nil {
		return h, err
	}
	if h.salt, err = base64.RawStdEncoding.Strict().DecodeString(parts[4]); err != nil || len(h.salt) < minSaltLen || len(h.salt) > maxSaltLen {
		return h, fmt.Errorf("%w: bad salt", ErrMalformedHash)
	}
	if h.key, err = base64.RawStdEncoding.Strict().DecodeString(parts[5]); err != nil || len(h.key) < minKeyLen || len(h.key) > maxKeyLen {
		return h, fmt.Errorf("%w: bad hash", ErrMalformedHash)
	}
	return h, nil
}

func parseParams(s string) (PasswordParams, error) {
	var pp PasswordParams
	fields := strings.Split(s, ",")
	if len(fields) != 3 {
		return pp, fmt.Errorf("%w: want m, t and p parameters", ErrMalformedHash)
	}
	values := make([]uint64, 3)
	for i, name := range []string{"m=", "t=", "p="} {
		v, ok := strings.CutPrefix(fields[i], name)
		if !ok {
			return pp, fmt.Errorf("%w: want m, t and p parameters in that order", ErrMalformedHash)
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil || n == 0 {
			return pp, fmt.Errorf("%w: bad parameter %s", ErrMalformedHash, strings.TrimSuffix(name, "="))
		}
		values[i] = n
	}
	if values[0] > maxMemory || values[1] > maxTime || values[2] > 255 {
		return pp, fmt.Errorf("%w: parameters out of range", ErrMalformedHash)
	}
	return PasswordParams{Memory: uint32(values[0]), Time: uint32(values[1]), Threads: uint8(values[2])}, nil
}
