package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/gatehouse/gatehouse/server"
)

// lifetimeSetting is one configurable lifetime: its flag, its variable and
// where it goes in server.Lifetimes.
type lifetimeSetting struct {
	flag, env, usage string
	field            func(*server.Lifetimes) *time.Duration
}

var lifetimeSettings = []lifetimeSetting{
	{"auth-code-lifetime", "GATEHOUSE_AUTH_CODE_LIFETIME", "authorization code", func(l *server.Lifetimes) *time.Duration { return &l.AuthorizeCode }},
	{"access-token-lifetime", "GATEHOUSE_ACCESS_TOKEN_LIFETIME", "opaque access token", func(l *server.Lifetimes) *time.Duration { return &l.AccessToken }},
	{"jwt-access-token-lifetime", "GATEHOUSE_JWT_ACCESS_TOKEN_LIFETIME", "JWT access token (valid offline until it expires, even if revoked)", func(l *server.Lifetimes) *time.Duration { return &l.JWTAccessToken }},
	{"id-token-lifetime", "GATEHOUSE_ID_TOKEN_LIFETIME", "ID token", func(l *server.Lifetimes) *time.Duration { return &l.IDToken }},
	{"refresh-token-idle-lifetime", "GATEHOUSE_REFRESH_TOKEN_IDLE_LIFETIME", "refresh token, since its last use", func(l *server.Lifetimes) *time.Duration { return &l.RefreshIdle }},
	{"refresh-token-absolute-lifetime", "GATEHOUSE_REFRESH_TOKEN_ABSOLUTE_LIFETIME", "refresh token chain, since the login", func(l *server.Lifetimes) *time.Duration { return &l.RefreshAbsolute }},
	{"session-idle-lifetime", "GATEHOUSE_SESSION_IDLE_LIFETIME", "browser session, since its last use", func(l *server.Lifetimes) *time.Duration { return &l.SessionIdle }},
	{"session-absolute-lifetime", "GATEHOUSE_SESSION_ABSOLUTE_LIFETIME", "browser session, since the login", func(l *server.Lifetimes) *time.Duration { return &l.SessionAbsolute }},
	{"consent-lifetime", "GATEHOUSE_CONSENT_LIFETIME", "remembered consent", func(l *server.Lifetimes) *time.Duration { return &l.Consent }},
	{"login-timeout", "GATEHOUSE_LOGIN_TIMEOUT", "pending login (from the authorization request to the end of consent)", func(l *server.Lifetimes) *time.Duration { return &l.PendingLogin }},
}

// addLifetimeFlags declares the lifetime flags on fs, with the defaults in
// their help.
func addLifetimeFlags(fs *pflag.FlagSet) {
	def := server.DefaultLifetimes()
	for _, s := range lifetimeSettings {
		fs.String(s.flag, "", fmt.Sprintf("lifetime of the %s (env %s; default %s)", s.usage, s.env, formatDuration(*s.field(&def))))
	}
}

// lifetimes returns the defaults overridden by flags and variables. Commands
// without the flags (keys retire) still honour the variables.
func (a *app) lifetimes(cmd *cobra.Command) (server.Lifetimes, error) {
	l := server.DefaultLifetimes()
	for _, s := range lifetimeSettings {
		v := a.setting(cmd, s.flag, s.env, "")
		if v == "" {
			continue
		}
		d, err := parseDuration(v)
		if err != nil || d <= 0 {
			return l, fmt.Errorf("%s / --%s: %q is not a positive duration (e.g. 90s, 15m, 24h, 30d)", s.env, s.flag, v)
		}
		*s.field(&l) = d
	}
	if l.RefreshIdle > l.RefreshAbsolute {
		return l, fmt.Errorf("the refresh token idle lifetime must not exceed its absolute lifetime")
	}
	if l.SessionIdle > l.SessionAbsolute {
		return l, fmt.Errorf("the session idle lifetime must not exceed its absolute lifetime")
	}
	return l, nil
}

// parseDuration is time.ParseDuration plus whole days ("30d").
func parseDuration(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil {
			return 0, err
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	return time.ParseDuration(s)
}

// formatDuration prints whole days as "30d", like parseDuration reads them.
func formatDuration(d time.Duration) string {
	if d >= 24*time.Hour && d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}
