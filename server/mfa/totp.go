package mfa

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base32"
	"fmt"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"rsc.io/qr"

	"github.com/gatehouse/gatehouse/server/secret"
)

// The TOTP parameters every authenticator app supports (RFC 6238 defaults).
const (
	period     = 30
	digits     = 6
	secretSize = 20 // 160 bits, as RFC 4226 recommends
	// skewSteps is how many steps either side of now a code may be from.
	skewSteps = 1
)

var validateOpts = totp.ValidateOpts{Period: period, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// Step is the TOTP time step of t.
func Step(t time.Time) int64 { return t.Unix() / period }

// newSecret returns a fresh secret in the base32 form apps expect.
func newSecret() (string, error) {
	b := make([]byte, secretSize)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate totp secret: %w", err)
	}
	return b32.EncodeToString(b), nil
}

// keyURI is the otpauth:// URI of secret for account.
func (s *Service) keyURI(account, secretB32 string) (string, error) {
	raw, err := b32.DecodeString(secretB32)
	if err != nil {
		return "", fmt.Errorf("decode totp secret: %w", err)
	}
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer: s.cfg.Issuer, AccountName: account, Period: period, Secret: raw,
		Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1,
	})
	if err != nil {
		return "", fmt.Errorf("build otpauth uri: %w", err)
	}
	return key.URL(), nil
}

// qrPNG renders text as a QR code PNG, quiet zone included.
func qrPNG(text string) ([]byte, error) {
	code, err := qr.Encode(text, qr.M)
	if err != nil {
		return nil, fmt.Errorf("encode qr code: %w", err)
	}
	code.Scale = 4
	return code.PNG(), nil
}

// matchStep returns the step in now−1..now+1 whose code is code. Every step
// is computed and compared in constant time, so the time taken does not say
// which one (if any) matched.
func matchStep(secretB32, code string, now time.Time) (int64, bool, error) {
	cur := Step(now)
	var matched int64
	found := 0
	for d := int64(-skewSteps); d <= skewSteps; d++ {
		want, err := totp.GenerateCodeCustom(secretB32, time.Unix((cur+d)*period, 0), validateOpts)
		if err != nil {
			return 0, false, fmt.Errorf("compute totp code: %w", err)
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			// The latest matching step is burnt, should two steps share a code.
			matched = cur + d
			found = 1
		}
	}
	return matched, found == 1, nil
}

// totpCode returns input as a six-digit code, or false when it is not one.
func totpCode(input string) (string, bool) {
	c := strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, input)
	if len(c) != digits {
		return "", false
	}
	for i := 0; i < len(c); i++ {
		if c[i] < '0' || c[i] > '9' {
			return "", false
		}
	}
	return c, true
}

// Associated data binding sealed secrets to their row.
func credentialAD(userID string) []byte {
	return secret.AssociatedData("totp_credentials", "secret", userID)
}

func enrollmentAD(userID string) []byte {
	return secret.AssociatedData("totp_enrollments", "secret", userID)
}
