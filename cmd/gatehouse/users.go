package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/server/manage"
	"github.com/gatehouse/gatehouse/storage"
)

// maxPasswordInput bounds what --password-stdin reads; longer passwords are
// refused by the password policy anyway.
const maxPasswordInput = 4096

func (a *app) usersCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "users", Short: "Manage user accounts"}
	cmd.AddCommand(
		a.usersCreateCommand(),
		a.usersListCommand(),
		a.usersGetCommand(),
		a.usersSetPasswordCommand(),
		a.userActionCommand("disable", "Disable a user, end their sessions and revoke their tokens", "Disabled", (*manage.Service).DisableUser),
		a.userActionCommand("enable", "Enable a disabled user", "Enabled", (*manage.Service).EnableUser),
		a.userActionCommand("delete", "Delete a user, their sessions and their tokens", "Deleted", (*manage.Service).DeleteUser),
		a.usersSignOutCommand(),
		a.usersUnlockCommand(),
		a.usersRequireMFACommand(),
		a.usersResetMFACommand(),
		a.roleAssignmentCommand("grant ID|USERNAME ROLE", "Give a user a role", "user", grantUser),
		a.roleAssignmentCommand("revoke ID|USERNAME ROLE", "Take a role from a user (their next refresh narrows their tokens)", "user", revokeUser),
	)
	return cmd
}

func (a *app) usersCreateCommand() *cobra.Command {
	var spec manage.UserSpec
	var passwordStdin bool
	var roles []string
	cmd := &cobra.Command{
		Use:     "create",
		Short:   "Create a user; the password is read from stdin",
		Example: `  printf '%s' "$PASSWORD" | gatehouse users create --username alice --email alice@example.com --password-stdin`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if passwordStdin {
				pw, err := a.readPassword()
				if err != nil {
					return err
				}
				spec.Password = pw
			}
			return a.withService(cmd, func(svc *manage.Service) error {
				for _, r := range roles {
					if _, err := svc.GetRole(cmd.Context(), r); err != nil {
						return err
					}
				}
				u, err := svc.CreateUser(cmd.Context(), spec)
				if err != nil {
					return err
				}
				for _, r := range roles {
					if _, err := svc.GrantUserRole(cmd.Context(), u.ID, r); err != nil {
						return err
					}
				}
				if a.json {
					return a.printJSON(struct {
						ID       string `json:"id"`
						Username string `json:"username"`
					}{u.ID, u.Username})
				}
				fmt.Fprintf(a.stdout, "id:       %s\nusername: %s\n", u.ID, u.Username)
				if u.PasswordHash == "" {
					fmt.Fprintln(a.stderr, "The user has no password yet: set one with \"gatehouse users set-password\".")
				}
				return nil
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&spec.Username, "username", "", "username used to sign in (required)")
	f.StringVar(&spec.Email, "email", "", "email address (required)")
	f.StringVar(&spec.DisplayName, "display-name", "", "full name, the OpenID Connect name claim")
	f.BoolVar(&passwordStdin, "password-stdin", false, "read the password from stdin (without it the user cannot sign in yet)")
	f.StringArrayVar(&roles, "role", nil, "role to give the user (repeatable)")
	return cmd
}

func (a *app) usersListCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List users",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withService(cmd, func(svc *manage.Service) error {
				us, err := svc.ListUsers(cmd.Context())
				if err != nil {
					return err
				}
				if a.json {
					out := make([]userJSON, 0, len(us))
					for _, u := range us {
						out = append(out, newUserJSON(u))
					}
					return a.printJSON(out)
				}
				tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tUSERNAME\tEMAIL\tSTATUS")
				for _, u := range us {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", u.ID, u.Username, u.Email, userStatus(u))
				}
				return tw.Flush()
			})
		},
	}
}

func (a *app) usersGetCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "get ID|USERNAME",
		Short: "Show a user",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withService(cmd, func(svc *manage.Service) error {
				u, err := svc.GetUser(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				roles, err := svc.UserRoles(cmd.Context(), u.ID)
				if err != nil {
					return err
				}
				names := make([]string, len(roles))
				for i, r := range roles {
					names[i] = r.Name
				}
				if a.json {
					return a.printJSON(struct {
						userJSON
						Roles []string `json:"roles"`
					}{newUserJSON(u), names})
				}
				tw := tabwriter.NewWriter(a.stdout, 0, 4, 1, ' ', 0)
				for _, row := range [][2]string{
					{"id", u.ID},
					{"username", u.Username},
					{"email", u.Email},
					{"email_verified", fmt.Sprint(u.EmailVerified)},
					{"display_name", u.DisplayName},
					{"status", userStatus(u)},
					{"has_password", fmt.Sprint(u.PasswordHash != "")},
					{"require_mfa", fmt.Sprint(u.RequireMFA)},
					{"roles", strings.Join(names, " ")},
					{"created_at", u.CreatedAt.Format(time.RFC3339)},
				} {
					fmt.Fprintf(tw, "%s:\t%s\n", row[0], row[1])
				}
				return tw.Flush()
			})
		},
	}
}

func (a *app) usersSetPasswordCommand() *cobra.Command {
	var passwordStdin bool
	cmd := &cobra.Command{
		Use:   "set-password ID|USERNAME --password-stdin",
		Short: "Set a user's password (read from stdin) and end their sessions",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !passwordStdin {
				return errors.New("give the password on stdin with --password-stdin")
			}
			pw, err := a.readPassword()
			if err != nil {
				return err
			}
			svc, closeStore, err := a.sessionEndingService(cmd)
			if err != nil {
				return err
			}
			defer closeStore()
			u, err := svc.SetPassword(cmd.Context(), args[0], pw)
			if err != nil {
				return err
			}
			return a.printUserDone(u, "Set the password of")
		},
	}
	cmd.Flags().BoolVar(&passwordStdin, "password-stdin", false, "read the password from stdin (required)")
	return cmd
}

// userActionCommand builds disable, enable and delete, which differ only in
// the service method they call.
func (a *app) userActionCommand(name, short, done string, action func(*manage.Service, context.Context, string) (*storage.User, error)) *cobra.Command {
	return &cobra.Command{
		Use:   name + " ID|USERNAME",
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, closeStore, err := a.sessionEndingService(cmd)
			if err != nil {
				return err
			}
			defer closeStore()
			u, err := action(svc, cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return a.printUserDone(u, done)
		},
	}
}

func (a *app) printUserDone(u *storage.User, done string) error {
	if a.json {
		return a.printJSON(struct {
			ID       string `json:"id"`
			Username string `json:"username"`
			Disabled bool   `json:"disabled"`
		}{u.ID, u.Username, u.Disabled})
	}
	fmt.Fprintf(a.stdout, "%s user %s (id %s).\n", done, u.Username, u.ID)
	return nil
}

// readPassword reads the password from stdin, without its final newline.
func (a *app) readPassword() (string, error) {
	b, err := io.ReadAll(io.LimitReader(a.stdin, maxPasswordInput+1))
	if err != nil {
		return "", fmt.Errorf("read password from stdin: %w", err)
	}
	if len(b) > maxPasswordInput {
		return "", errors.New("the password on stdin is too long")
	}
	pw := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	if pw == "" {
		return "", errors.New("no password on stdin")
	}
	return pw, nil
}

func userStatus(u *storage.User) string {
	if u.Disabled {
		return "disabled"
	}
	return "active"
}

// userJSON is a user as the CLI prints it; it never carries the password hash.
type userJSON struct {
	ID            string    `json:"id"`
	Username      string    `json:"username"`
	Email         string    `json:"email"`
	EmailVerified bool      `json:"email_verified"`
	DisplayName   string    `json:"display_name"`
	Disabled      bool      `json:"disabled"`
	HasPassword   bool      `json:"has_password"`
	RequireMFA    bool      `json:"require_mfa"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

func newUserJSON(u *storage.User) userJSON {
	return userJSON{
		ID: u.ID, Username: u.Username, Email: u.Email, EmailVerified: u.EmailVerified,
		DisplayName: u.DisplayName, Disabled: u.Disabled, HasPassword: u.PasswordHash != "",
		RequireMFA: u.RequireMFA, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt,
	}
}
