package e2e

import (
	"slices"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// authenticator is the person's authenticator app, set up from the
// otpauth:// URI shown on the enrollment page.
type authenticator struct {
	key *otp.Key
	// last is the last time step used: Gatehouse accepts each step once.
	last int64
}

func newAuthenticator(t *testing.T, uri string) *authenticator {
	t.Helper()
	key, err := otp.NewKeyFromURL(uri)
	if err != nil {
		t.Fatalf("the enrollment page shows no valid otpauth URI (%v)", err)
	}
	if key.Type() != "totp" || key.Period() != 30 || key.Digits() != otp.DigitsSix || key.Algorithm() != otp.AlgorithmSHA1 {
		t.Fatalf("otpauth URI: want TOTP, 30 s, 6 digits, SHA1 (what every app supports); got %s", uri)
	}
	remember(key.Secret())
	return &authenticator{key: key}
}

func (a *authenticator) codeAt(step int64) string {
	code, err := totp.GenerateCodeCustom(a.key.Secret(), time.Unix(step*30, 0), totp.ValidateOpts{
		Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1,
	})
	if err != nil {
		panic(err) // the key was checked in newAuthenticator
	}
	return code
}

// next returns the code of a time step not used yet: the current one, or
// the next (Gatehouse accepts one step of clock skew), waiting for the
// clock when both were used.
func (a *authenticator) next() string {
	now := time.Now().Unix() / 30
	step := max(now, a.last+1)
	if step > now+1 {
		time.Sleep(time.Until(time.Unix((step-1)*30, 0)))
	}
	a.last = step
	return a.codeAt(step)
}

// wrong returns a code that no step near now accepts.
func (a *authenticator) wrong() string {
	now := time.Now().Unix() / 30
	valid := []string{a.codeAt(now - 1), a.codeAt(now), a.codeAt(now + 1), a.codeAt(now + 2)}
	for _, c := range []string{"000000", "111111", "222222"} {
		if !slices.Contains(valid, c) {
			return c
		}
	}
	panic("unreachable: three codes cannot all be valid")
}
