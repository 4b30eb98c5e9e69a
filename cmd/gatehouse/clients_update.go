package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/server/manage"
)

// clientsUpdateCommand changes a registration; only the flags given change.
func (a *app) clientsUpdateCommand() *cobra.Command {
	var (
		name, backchannel, format                       string
		redirects, postLogout, grants, scopes, audience []string
		skipConsent, requireMFA                         bool
	)
	cmd := &cobra.Command{
		Use:     "update CLIENT_ID",
		Short:   "Change a client's registration (only the flags given change; list flags replace the whole list)",
		Example: `  gatehouse clients update 3f2a… --name "My app" --redirect-uri https://app.example.com/callback --skip-consent=false`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f := cmd.Flags()
			var u manage.ClientUpdate
			if f.Changed("name") {
				u.Name = &name
			}
			if f.Changed("redirect-uri") {
				u.RedirectURIs = &redirects
			}
			if f.Changed("post-logout-redirect-uri") {
				u.PostLogoutRedirectURIs = &postLogout
			}
			if f.Changed("grant-type") {
				u.GrantTypes = &grants
			}
			if f.Changed("scope") {
				u.Scopes = &scopes
			}
			if f.Changed("audience") {
				u.Audience = &audience
			}
			if f.Changed("skip-consent") {
				u.SkipConsent = &skipConsent
			}
			if f.Changed("require-mfa") {
				u.RequireMFA = &requireMFA
			}
			if f.Changed("backchannel-logout-uri") {
				u.BackchannelLogoutURI = &backchannel
			}
			if f.Changed("access-token-format") {
				u.AccessTokenFormat = &format
			}
			return a.withService(cmd, func(svc *manage.Service) error {
				c, err := svc.UpdateClient(cmd.Context(), args[0], u)
				if err != nil {
					return err
				}
				if a.json {
					return a.printJSON(newClientJSON(c))
				}
				fmt.Fprintf(a.stdout, "Updated client %s.\n", c.ID)
				return nil
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&name, "name", "", "client name, shown on the consent page")
	f.StringArrayVar(&redirects, "redirect-uri", nil, "redirect URI (repeatable; replaces the list)")
	f.StringArrayVar(&postLogout, "post-logout-redirect-uri", nil, "post-logout redirect URI (repeatable; replaces the list)")
	f.StringArrayVar(&grants, "grant-type", nil, "authorization_code, refresh_token or client_credentials (repeatable; replaces the list)")
	f.StringArrayVar(&scopes, "scope", nil, "space-separated scopes the client may request (replaces the list)")
	f.StringArrayVar(&audience, "audience", nil, "audience the client may request (repeatable; replaces the list)")
	f.BoolVar(&skipConsent, "skip-consent", false, "first-party client: do not ask users for consent")
	f.BoolVar(&requireMFA, "require-mfa", false, "users must use the second factor at every authorization for this client")
	f.StringVar(&backchannel, "backchannel-logout-uri", "", `back-channel logout URI ("" removes it)`)
	f.StringVar(&format, "access-token-format", "", "opaque or jwt")
	return cmd
}

// clientsRotateSecretCommand issues a new client secret; the old one keeps
// working for --grace so that deployments can switch without downtime.
func (a *app) clientsRotateSecretCommand() *cobra.Command {
	var grace time.Duration
	cmd := &cobra.Command{
		Use:     "rotate-secret CLIENT_ID",
		Short:   "Issue a new client secret (shown only once); the old one stays valid for --grace",
		Example: `  gatehouse clients rotate-secret 3f2a… --grace 24h`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, closeStore, err := a.manageService(cmd, true)
			if err != nil {
				return err
			}
			defer closeStore()
			c, clientSecret, err := svc.RotateClientSecret(cmd.Context(), args[0], grace)
			if err != nil {
				return err
			}
			if a.json {
				return a.printJSON(struct {
					ClientID       string     `json:"client_id"`
					ClientSecret   string     `json:"client_secret"`
					OldSecretUntil *time.Time `json:"previous_secret_expires_at,omitempty"`
				}{c.ID, clientSecret, c.RotatedSecretExpiresAt})
			}
			fmt.Fprintf(a.stdout, "client_id:     %s\nclient_secret: %s\n", c.ID, clientSecret)
			if c.RotatedSecretExpiresAt != nil {
				fmt.Fprintf(a.stderr, "The previous secret stays valid until %s.\n", c.RotatedSecretExpiresAt.Format(time.RFC3339))
			} else {
				fmt.Fprintln(a.stderr, "The previous secret no longer works.")
			}
			fmt.Fprintln(a.stderr, "The client secret is shown only now: store it safely.")
			return nil
		},
	}
	cmd.Flags().DurationVar(&grace, "grace", 0, "how long the previous secret stays valid (e.g. 24h, at most 720h; 0 ends it at once)")
	return cmd
}
