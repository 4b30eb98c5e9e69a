package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/server/policy"
)

// lockoutPolicy parses GATEHOUSE_LOCKOUT: "THRESHOLD/WINDOW/D1,D2,...",
// e.g. the default "5/10m/1m,5m,15m". Tests and cautious operators use
// seconds.
func (a *app) lockoutPolicy(cmd *cobra.Command) (policy.Lockout, error) {
	raw := a.setting(cmd, "lockout", envLockout, "")
	if raw == "" {
		return policy.DefaultLockout(), nil
	}
	bad := fmt.Errorf("%s %q: want THRESHOLD/WINDOW/DURATION[,DURATION...], e.g. 5/10m/1m,5m,15m", envLockout, raw)
	parts := strings.Split(raw, "/")
	if len(parts) != 3 {
		return policy.Lockout{}, bad
	}
	threshold, err := strconv.Atoi(parts[0])
	if err != nil || threshold < 1 {
		return policy.Lockout{}, bad
	}
	window, err := time.ParseDuration(parts[1])
	if err != nil || window <= 0 {
		return policy.Lockout{}, bad
	}
	l := policy.Lockout{Threshold: threshold, Window: window}
	for _, d := range strings.Split(parts[2], ",") {
		dur, err := time.ParseDuration(strings.TrimSpace(d))
		if err != nil || dur <= 0 {
			return policy.Lockout{}, bad
		}
		l.Durations = append(l.Durations, dur)
	}
	return l, nil
}
