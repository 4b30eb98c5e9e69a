package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/server/manage"
)

func (a *app) usersRequireMFACommand() *cobra.Command {
	var off bool
	cmd := &cobra.Command{
		Use:   "require-mfa ID|USERNAME [--off]",
		Short: "Make the second factor mandatory at every login of a user (--off: optional again)",
		Long: `Make the second factor mandatory at every login of a user. A user without an
authenticator app sets one up at their next login. With --off, the second factor
is optional again (a user who has an authenticator app keeps using it).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withService(cmd, func(svc *manage.Service) error {
				u, err := svc.SetRequireMFA(cmd.Context(), args[0], !off)
				if err != nil {
					return err
				}
				if a.json {
					return a.printJSON(struct {
						ID         string `json:"id"`
						Username   string `json:"username"`
						RequireMFA bool   `json:"require_mfa"`
					}{u.ID, u.Username, u.RequireMFA})
				}
				if u.RequireMFA {
					fmt.Fprintf(a.stdout, "User %s (id %s) must now use a second factor at every login.\n", u.Username, u.ID)
				} else {
					fmt.Fprintf(a.stdout, "The second factor is optional again for user %s (id %s).\n", u.Username, u.ID)
				}
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&off, "off", false, "make the second factor optional again")
	return cmd
}

func (a *app) usersResetMFACommand() *cobra.Command {
	return &cobra.Command{
		Use:   "reset-mfa ID|USERNAME",
		Short: "Remove a user's authenticator app and recovery codes, and end their sessions",
		Long: `Remove a user's authenticator app, recovery codes and second-factor lock, and
end their browser sessions. Use it when a user lost their phone and their
recovery codes. If the second factor is required for them, they set up a new
authenticator app at their next login.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withService(cmd, func(svc *manage.Service) error {
				u, removed, err := svc.ResetMFA(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				if a.json {
					return a.printJSON(struct {
						ID          string `json:"id"`
						Username    string `json:"username"`
						TOTPRemoved bool   `json:"totp_removed"`
					}{u.ID, u.Username, removed})
				}
				if removed {
					fmt.Fprintf(a.stdout, "Removed the authenticator app and recovery codes of user %s (id %s) and ended their sessions.\n", u.Username, u.ID)
				} else {
					fmt.Fprintf(a.stdout, "User %s (id %s) had no authenticator app; their sessions are ended.\n", u.Username, u.ID)
				}
				return nil
			})
		},
	}
}
