package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/server/credential"
	"github.com/gatehouse/gatehouse/server/manage"
	"github.com/gatehouse/gatehouse/server/secret"
	"github.com/gatehouse/gatehouse/storage"
)

func (a *app) clientsCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "clients", Short: "Register and remove OAuth clients"}
	cmd.AddCommand(a.clientsCreateCommand(), a.clientsListCommand(), a.clientsGetCommand(), a.clientsDeleteCommand(),
		a.clientsUpdateCommand(), a.clientsRotateSecretCommand(),
		a.roleAssignmentCommand("grant CLIENT_ID ROLE", "Give a client a role: it decides the client's client_credentials scopes", "client", (*manage.Service).GrantClientRole),
		a.roleAssignmentCommand("revoke CLIENT_ID ROLE", "Take a role from a client", "client", (*manage.Service).RevokeClientRole))
	return cmd
}

func (a *app) clientsCreateCommand() *cobra.Command {
	var spec manage.ClientSpec
	var jwksFile string
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Register a client and print its id and secret (shown only once)",
		Example: `  gatehouse clients create --name "My app" --redirect-uri https://app.example.com/callback \
    --grant-type authorization_code --grant-type refresh_token --scope "openid profile email offline_access"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if jwksFile != "" {
				b, err := os.ReadFile(jwksFile)
				if err != nil {
					return fmt.Errorf("read --jwks-file: %w", err)
				}
				spec.JWKS = b
			}
			svc, closeStore, err := a.manageService(cmd, true)
			if err != nil {
				return err
			}
			defer closeStore()
			c, clientSecret, err := svc.CreateClient(cmd.Context(), spec)
			if err != nil {
				return err
			}
			if a.json {
				return a.printJSON(struct {
					ClientID     string `json:"client_id"`
					ClientSecret string `json:"client_secret,omitempty"`
				}{c.ID, clientSecret})
			}
			fmt.Fprintf(a.stdout, "client_id:     %s\n", c.ID)
			if clientSecret != "" {
				fmt.Fprintf(a.stdout, "client_secret: %s\n", clientSecret)
				fmt.Fprintln(a.stderr, "The client secret is shown only now: store it safely.")
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&spec.Name, "name", "", "client name, shown on the consent page (required)")
	f.StringArrayVar(&spec.RedirectURIs, "redirect-uri", nil, "redirect URI, https or http on a loopback host (repeatable)")
	f.StringArrayVar(&spec.PostLogoutRedirectURIs, "post-logout-redirect-uri", nil, "post-logout redirect URI (repeatable)")
	f.StringVar(&spec.BackchannelLogoutURI, "backchannel-logout-uri", "", "URI that receives back-channel logout tokens (OpenID Connect Back-Channel Logout)")
	f.StringArrayVar(&spec.GrantTypes, "grant-type", nil, "authorization_code, refresh_token or client_credentials (repeatable; default authorization_code and refresh_token)")
	f.StringArrayVar(&spec.Scopes, "scope", nil, `space-separated scopes the client may request (default "openid profile email offline_access")`)
	f.BoolVar(&spec.Public, "public", false, "a public client (SPA or native app): no secret, PKCE required")
	f.StringVar(&spec.TokenEndpointAuthMethod, "token-endpoint-auth-method", "", "none, client_secret_basic, client_secret_post or private_key_jwt")
	f.StringVar(&spec.JWKSURI, "jwks-uri", "", "https URL of the client's public keys (private_key_jwt)")
	f.StringVar(&jwksFile, "jwks-file", "", "file with the client's public JSON Web Key Set (private_key_jwt)")
	f.StringVar(&spec.TokenEndpointAuthSigningAlg, "token-endpoint-auth-signing-alg", "", "alg of private_key_jwt assertions: RS256 or ES256 (default from the keys)")
	f.BoolVar(&spec.SkipConsent, "skip-consent", false, "first-party client: do not ask users for consent (prompt=consent still asks)")
	f.BoolVar(&spec.RequireMFA, "require-mfa", false, "users must use the second factor at every authorization for this client")
	f.StringVar(&spec.IDTokenSigningAlg, "id-token-signing-alg", "", "RS256 (default) or ES256")
	f.StringVar(&spec.AccessTokenFormat, "access-token-format", "", "opaque (default) or jwt (RFC 9068)")
	f.StringArrayVar(&spec.Audience, "audience", nil, "audience the client may request for its tokens (repeatable)")
	return cmd
}

func (a *app) clientsListCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List registered clients",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withService(cmd, func(svc *manage.Service) error {
				cs, err := svc.ListClients(cmd.Context())
				if err != nil {
					return err
				}
				if a.json {
					out := make([]clientJSON, 0, len(cs))
					for _, c := range cs {
						out = append(out, newClientJSON(c))
					}
					return a.printJSON(out)
				}
				tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "CLIENT ID\tNAME\tTYPE\tAUTH METHOD\tGRANT TYPES")
				for _, c := range cs {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.ID, c.Name, clientType(c), c.GetTokenEndpointAuthMethod(), strings.Join(c.GrantTypes, ","))
				}
				return tw.Flush()
			})
		},
	}
}

func (a *app) clientsGetCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "get CLIENT_ID",
		Short: "Show a client",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withService(cmd, func(svc *manage.Service) error {
				c, err := svc.GetClient(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				if a.json {
					return a.printJSON(newClientJSON(c))
				}
				v := newClientJSON(c)
				tw := tabwriter.NewWriter(a.stdout, 0, 4, 1, ' ', 0)
				for _, row := range [][2]string{
					{"client_id", v.ClientID},
					{"client_name", v.ClientName},
					{"type", clientType(c)},
					{"redirect_uris", strings.Join(v.RedirectURIs, " ")},
					{"post_logout_redirect_uris", strings.Join(v.PostLogoutRedirectURIs, " ")},
					{"grant_types", strings.Join(v.GrantTypes, " ")},
					{"scope", v.Scope},
					{"audience", strings.Join(v.Audience, " ")},
					{"token_endpoint_auth_method", v.TokenEndpointAuthMethod},
					{"jwks_uri", v.JWKSURI},
					{"id_token_signed_response_alg", v.IDTokenSignedResponseAlg},
					{"access_token_format", v.AccessTokenFormat},
					{"skip_consent", fmt.Sprint(v.SkipConsent)},
					{"require_mfa", fmt.Sprint(v.RequireMFA)},
					{"created_at", v.CreatedAt.Format(time.RFC3339)},
				} {
					fmt.Fprintf(tw, "%s:\t%s\n", row[0], row[1])
				}
				return tw.Flush()
			})
		},
	}
}

func (a *app) clientsDeleteCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "delete CLIENT_ID",
		Short: "Delete a client and revoke its tokens",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withService(cmd, func(svc *manage.Service) error {
				if err := svc.DeleteClient(cmd.Context(), args[0]); err != nil {
					return err
				}
				if a.json {
					return a.printJSON(map[string]any{"client_id": args[0], "deleted": true})
				}
				fmt.Fprintf(a.stdout, "Deleted client %s; its tokens are revoked.\n", args[0])
				return nil
			})
		},
	}
}

// manageService opens the database and returns the provisioning service with
// a function that closes the database. withSecret also loads the system
// secret, which client secrets are digested with.
func (a *app) manageService(cmd *cobra.Command, withSecret bool) (*manage.Service, func(), error) {
	store, err := a.openStore(cmd, true)
	if err != nil {
		return nil, nil, err
	}
	var hasher *credential.SecretHasher
	if withSecret {
		dataDir, err := a.dataDir(cmd)
		if err != nil {
			store.Close()
			return nil, nil, err
		}
		logger, err := a.logger(cmd, "warn", "text")
		if err != nil {
			store.Close()
			return nil, nil, err
		}
		k, err := a.keyring(cmd, dataDir, secretOrFile, logger)
		if err != nil {
			store.Close()
			return nil, nil, err
		}
		hasher = credential.NewSecretHasher(k.Digester(secret.PurposeClientSecret))
	}
	passwords := credential.NewPasswords(credential.DefaultPasswordParams, 1, 0)
	return manage.New(store, passwords, hasher, nil), func() { store.Close() }, nil
}

func clientType(c *storage.Client) string {
	if c.Public {
		return "public"
	}
	return "confidential"
}

// clientJSON is a client as the CLI prints it, with RFC 7591 field names.
// It never carries the secret digest.
type clientJSON struct {
	ClientID                    string          `json:"client_id"`
	ClientName                  string          `json:"client_name"`
	Public                      bool            `json:"public"`
	RedirectURIs                []string        `json:"redirect_uris"`
	PostLogoutRedirectURIs      []string        `json:"post_logout_redirect_uris"`
	BackchannelLogoutURI        string          `json:"backchannel_logout_uri,omitempty"`
	GrantTypes                  []string        `json:"grant_types"`
	ResponseTypes               []string        `json:"response_types"`
	Scope                       string          `json:"scope"`
	Audience                    []string        `json:"audience"`
	TokenEndpointAuthMethod     string          `json:"token_endpoint_auth_method"`
	TokenEndpointAuthSigningAlg string          `json:"token_endpoint_auth_signing_alg,omitempty"`
	JWKSURI                     string          `json:"jwks_uri,omitempty"`
	JWKS                        json.RawMessage `json:"jwks,omitempty"`
	IDTokenSignedResponseAlg    string          `json:"id_token_signed_response_alg"`
	AccessTokenFormat           string          `json:"access_token_format"`
	SkipConsent                 bool            `json:"skip_consent"`
	RequireMFA                  bool            `json:"require_mfa"`
	CreatedAt                   time.Time       `json:"created_at"`
	UpdatedAt                   time.Time       `json:"updated_at"`
}

func newClientJSON(c *storage.Client) clientJSON {
	v := clientJSON{
		ClientID:                 c.ID,
		ClientName:               c.Name,
		Public:                   c.Public,
		RedirectURIs:             nonNil(c.RedirectURIs),
		PostLogoutRedirectURIs:   nonNil(c.PostLogoutRedirectURIs),
		BackchannelLogoutURI:     c.BackchannelLogoutURI,
		GrantTypes:               nonNil(c.GrantTypes),
		ResponseTypes:            nonNil(c.GetResponseTypes()),
		Scope:                    strings.Join(c.Scopes, " "),
		Audience:                 nonNil(c.Audience),
		TokenEndpointAuthMethod:  c.GetTokenEndpointAuthMethod(),
		JWKSURI:                  c.JWKSURI,
		IDTokenSignedResponseAlg: c.IDTokenSigningAlg,
		AccessTokenFormat:        c.AccessTokenFormat,
		SkipConsent:              c.SkipConsent,
		RequireMFA:               c.RequireMFA,
		CreatedAt:                c.CreatedAt,
		UpdatedAt:                c.UpdatedAt,
	}
	if c.TokenEndpointAuthMethod == storage.AuthMethodPrivateKeyJWT {
		v.TokenEndpointAuthSigningAlg = c.GetTokenEndpointAuthSigningAlgorithm()
	}
	if len(c.JWKS) > 0 && json.Valid(c.JWKS) {
		v.JWKS = c.JWKS
	}
	return v
}

func nonNil[S ~[]string](s S) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// withService runs fn with a management service on the configured database,
// which it closes afterwards.
func (a *app) withService(cmd *cobra.Command, fn func(*manage.Service) error) error {
	svc, closeStore, err := a.manageService(cmd, false)
	if err != nil {
		return err
	}
	defer closeStore()
	return fn(svc)
}
