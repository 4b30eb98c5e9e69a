package policy

import (
	"slices"
	"time"
)

// RecentPassword is how recent a password check must be before a second
// factor is enrolled or disabled, or recovery codes are regenerated.
const RecentPassword = 10 * time.Minute

// PasswordIsRecent reports whether a password proven at checkedAt is recent
// enough at now for those changes.
func PasswordIsRecent(checkedAt, now time.Time) bool {
	return !checkedAt.IsZero() && now.Sub(checkedAt) <= RecentPassword
}

// Authentication context classes (the ID token's acr) that Gatehouse asserts
// and that a client may ask for with acr_values.
const (
	ACRPassword = "urn:gatehouse:acr:pwd"
	ACRMFA      = "urn:gatehouse:acr:mfa"
)

// ACRValues are the classes discovery advertises, weakest first.
var ACRValues = []string{ACRPassword, ACRMFA}

// Authentication method references (RFC 8176) of a browser session.
const (
	AMRPassword = "pwd"
	AMROTP      = "otp"
	AMRMFA      = "mfa"
)

// MFA is what decides whether an authorization needs a second factor.
type MFA struct {
	// Enrolled: the user has an active authenticator app. Whoever has one
	// uses it at every login, whatever the rest says.
	Enrolled bool
	// UserRequires is the user's own flag (gatehouse users require-mfa).
	UserRequires bool
	// ClientRequires is the client's flag (clients create --require-mfa).
	ClientRequires bool
	// RoleRequires: one of the user's roles has require-mfa.
	RoleRequires bool
	// ACRValues are the request's acr_values; asking for ACRMFA requires it.
	ACRValues []string
}

// Required reports whether the authorization must carry a second factor.
func (m MFA) Required() bool {
	return m.Enrolled || m.UserRequires || m.ClientRequires || m.RoleRequires || slices.Contains(m.ACRValues, ACRMFA)
}

// HasSecondFactor reports whether a session's methods include a second factor.
func HasSecondFactor(amr []string) bool { return slices.Contains(amr, AMRMFA) }

// ACR is the authentication context class that amr satisfies.
func ACR(amr []string) string {
	if HasSecondFactor(amr) {
		return ACRMFA
	}
	return ACRPassword
}

// WithSecondFactor returns amr after a second factor: a code from the
// authenticator app adds "otp" and "mfa"; a recovery code adds only "mfa"
// (it is a second factor, but not a one-time password from a device).
func WithSecondFactor(amr []string, recoveryCode bool) []string {
	out := slices.Clone(amr)
	add := []string{AMROTP, AMRMFA}
	if recoveryCode {
		add = []string{AMRMFA}
	}
	for _, m := range add {
		if !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	return out
}
