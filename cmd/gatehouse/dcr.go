package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

const (
	envDynamicRegistration = "GATEHOUSE_DYNAMIC_REGISTRATION"
	envRegistrationToken   = "GATEHOUSE_REGISTRATION_TOKEN"
)

func addDynamicRegistrationFlags(f *pflag.FlagSet) {
	f.Bool("dynamic-registration", false, "open RFC 7591/7592 dynamic client registration at /oauth2/register (env "+envDynamicRegistration+"=on; needs "+envRegistrationToken+")")
	f.String("registration-token", "", "comma-separated initial access tokens for dynamic registration (env "+envRegistrationToken+", preferred: a command line is visible to other users)")
}

// dynamicRegistration returns whether dynamic registration is on and its
// initial access tokens; it refuses to turn it on without a token.
func (a *app) dynamicRegistration(cmd *cobra.Command) (bool, []string, error) {
	var on bool
	switch v := strings.ToLower(a.setting(cmd, "dynamic-registration", envDynamicRegistration, "off")); v {
	case "on", "true", "1":
		on = true
	case "off", "false", "0":
	default:
		return false, nil, fmt.Errorf("%s %q: want on or off", envDynamicRegistration, v)
	}
	if !on {
		return false, nil, nil
	}
	var tokens []string
	for _, t := range strings.Split(a.setting(cmd, "registration-token", envRegistrationToken, ""), ",") {
		if t = strings.TrimSpace(t); t != "" {
			tokens = append(tokens, t)
		}
	}
	if len(tokens) == 0 {
		return false, nil, fmt.Errorf("%s=on needs %s (one or more initial access tokens)", envDynamicRegistration, envRegistrationToken)
	}
	return true, tokens, nil
}
