package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/server/manage"
	"github.com/gatehouse/gatehouse/storage"
)

func (a *app) rolesCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "roles", Short: "Manage roles: named sets of scopes that users and clients hold"}
	cmd.AddCommand(
		a.rolesCreateCommand(),
		a.rolesListCommand(),
		a.rolesGetCommand(),
		a.rolesDeleteCommand(),
		a.roleScopesCommand("add-scope", "Add scopes to a role", (*manage.Service).AddRoleScopes),
		a.roleScopesCommand("remove-scope", "Remove scopes from a role (holders lose them, also from remembered consent)", (*manage.Service).RemoveRoleScopes),
	)
	return cmd
}

type roleJSON struct {
	Name        string    `json:"name"`
	Description string    `json:"description"`
	Scopes      []string  `json:"scopes"`
	RequireMFA  bool      `json:"require_mfa"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

func newRoleJSON(r *storage.Role) roleJSON {
	return roleJSON{Name: r.Name, Description: r.Description, Scopes: nonNil(r.Scopes), RequireMFA: r.RequireMFA, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

func (a *app) printRole(r *storage.Role) error {
	if a.json {
		return a.printJSON(newRoleJSON(r))
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 1, ' ', 0)
	for _, row := range [][2]string{
		{"name", r.Name},
		{"description", r.Description},
		{"scopes", strings.Join(r.Scopes, " ")},
		{"require_mfa", fmt.Sprint(r.RequireMFA)},
	} {
		fmt.Fprintf(tw, "%s:\t%s\n", row[0], row[1])
	}
	return tw.Flush()
}

func (a *app) rolesCreateCommand() *cobra.Command {
	var spec manage.RoleSpec
	cmd := &cobra.Command{
		Use:     "create NAME",
		Short:   "Create a role",
		Example: `  gatehouse roles create editor --scope articles:write --description "Writes articles"`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withService(cmd, func(svc *manage.Service) error {
				spec.Name = args[0]
				r, err := svc.CreateRole(cmd.Context(), spec)
				if err != nil {
					return err
				}
				return a.printRole(r)
			})
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&spec.Scopes, "scope", nil, "scope the role carries (repeatable, or space-separated)")
	f.StringVar(&spec.Description, "description", "", "what the role is for")
	f.BoolVar(&spec.RequireMFA, "require-mfa", false, "holders must use the second factor at every login")
	return cmd
}

func (a *app) rolesListCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List roles",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withService(cmd, func(svc *manage.Service) error {
				roles, err := svc.ListRoles(cmd.Context())
				if err != nil {
					return err
				}
				if a.json {
					out := make([]roleJSON, 0, len(roles))
					for _, r := range roles {
						out = append(out, newRoleJSON(r))
					}
					return a.printJSON(out)
				}
				tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "NAME\tSCOPES\tREQUIRE MFA\tDESCRIPTION")
				for _, r := range roles {
					fmt.Fprintf(tw, "%s\t%s\t%v\t%s\n", r.Name, strings.Join(r.Scopes, " "), r.RequireMFA, r.Description)
				}
				return tw.Flush()
			})
		},
	}
}

func (a *app) rolesGetCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "get NAME",
		Short: "Show a role",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withService(cmd, func(svc *manage.Service) error {
				r, err := svc.GetRole(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				return a.printRole(r)
			})
		},
	}
}

func (a *app) rolesDeleteCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete a role; its holders lose its scopes",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withService(cmd, func(svc *manage.Service) error {
				if err := svc.DeleteRole(cmd.Context(), args[0]); err != nil {
					return err
				}
				if a.json {
					return a.printJSON(map[string]any{"name": args[0], "deleted": true})
				}
				fmt.Fprintf(a.stdout, "Deleted role %s\n", args[0])
				return nil
			})
		},
	}
}

func (a *app) roleScopesCommand(name, short string, change func(*manage.Service, context.Context, string, []string) (*storage.Role, error)) *cobra.Command {
	return &cobra.Command{
		Use:   name + " NAME SCOPE...",
		Short: short,
		Args:  cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withService(cmd, func(svc *manage.Service) error {
				r, err := change(svc, cmd.Context(), args[0], args[1:])
				if err != nil {
					return err
				}
				return a.printRole(r)
			})
		},
	}
}

// roleAssignmentCommand builds `users grant|revoke` and `clients grant|revoke`.
func (a *app) roleAssignmentCommand(use, short, holderKind string, change func(svc *manage.Service, ctx context.Context, holder, role string) error) *cobra.Command {
	return &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withService(cmd, func(svc *manage.Service) error {
				if err := change(svc, cmd.Context(), args[0], args[1]); err != nil {
					return err
				}
				verb := strings.Fields(use)[0]
				if a.json {
					return a.printJSON(map[string]string{holderKind: args[0], "role": args[1], "action": verb})
				}
				fmt.Fprintf(a.stdout, "%s %s: role %s %sed\n", holderKind, args[0], args[1], strings.TrimSuffix(verb, "e"))
				return nil
			})
		},
	}
}

func grantUser(svc *manage.Service, ctx context.Context, user, role string) error {
	_, err := svc.GrantUserRole(ctx, user, role)
	return err
}

func revokeUser(svc *manage.Service, ctx context.Context, user, role string) error {
	_, err := svc.RevokeUserRole(ctx, user, role)
	return err
}
