// Command rp is an example "log in with Gatehouse" web application (a
// confidential OpenID Connect client on golang.org/x/oauth2 and
// github.com/coreos/go-oidc/v3). See examples/rp/README.md.
//
// Register it, then run it:
//
//	gatehouse clients create --name "Example app" \
//	  --redirect-uri http://localhost:5555/callback \
//	  --post-logout-redirect-uri http://localhost:5555/signed-out \
//	  --backchannel-logout-uri http://localhost:5555/backchannel-logout \
//	  --json > rp-client.json
//	go run ./examples/rp --issuer http://localhost:8080 --client-file rp-client.json
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/gatehouse/gatehouse/examples/rp/relyingparty"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "rp:", err)
		os.Exit(1)
	}
}

// settings are the command line; each flag also reads an RP_* variable.
type settings struct {
	issuer, clientID, clientSecret, clientFile string
	addr, redirectURL, postLogoutURL, scopes   string
	wait                                       time.Duration
}

func parse(args []string) (settings, error) {
	var s settings
	fs := flag.NewFlagSet("rp", flag.ContinueOnError)
	fs.StringVar(&s.issuer, "issuer", env("RP_ISSUER", "http://localhost:8080"), "Gatehouse issuer URL (RP_ISSUER)")
	fs.StringVar(&s.clientID, "client-id", env("RP_CLIENT_ID", ""), "client id (RP_CLIENT_ID)")
	fs.StringVar(&s.clientFile, "client-file", env("RP_CLIENT_FILE", ""), "JSON file with client_id and client_secret, as printed by `gatehouse clients create --json` (RP_CLIENT_FILE)")
	fs.StringVar(&s.addr, "addr", env("RP_ADDR", "127.0.0.1:5555"), "listen address (RP_ADDR)")
	fs.StringVar(&s.redirectURL, "redirect-url", env("RP_REDIRECT_URL", "http://localhost:5555/callback"), "registered redirect URI (RP_REDIRECT_URL)")
	fs.StringVar(&s.postLogoutURL, "post-logout-redirect-url", env("RP_POST_LOGOUT_REDIRECT_URL", ""), "registered post-logout redirect URI (RP_POST_LOGOUT_REDIRECT_URL; default <base>/signed-out)")
	fs.StringVar(&s.scopes, "scopes", env("RP_SCOPES", "openid profile email offline_access"), "scopes to ask for (RP_SCOPES)")
	fs.DurationVar(&s.wait, "wait", 2*time.Minute, "how long to wait for Gatehouse's discovery document at start")
	if err := fs.Parse(args); err != nil {
		return s, err
	}
	// The secret only from the environment or a file: command lines are visible to other users.
	s.clientSecret = os.Getenv("RP_CLIENT_SECRET")
	if s.clientFile != "" {
		b, err := os.ReadFile(s.clientFile)
		if err != nil {
			return s, fmt.Errorf("read client file: %w", err)
		}
		var c struct {
			ClientID     string `json:"client_id"`
			ClientSecret string `json:"client_secret"`
		}
		if err := json.Unmarshal(b, &c); err != nil {
			return s, fmt.Errorf("client file %s: %w", s.clientFile, err)
		}
		s.clientID, s.clientSecret = c.ClientID, c.ClientSecret
	}
	if s.clientID == "" || s.clientSecret == "" {
		return s, errors.New("need a client: --client-file, or RP_CLIENT_ID (or --client-id) with RP_CLIENT_SECRET")
	}
	return s, nil
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func run(args []string) error {
	s, err := parse(args)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg := relyingparty.Config{
		Issuer:                s.issuer,
		ClientID:              s.clientID,
		ClientSecret:          s.clientSecret,
		RedirectURL:           s.redirectURL,
		PostLogoutRedirectURL: s.postLogoutURL,
		Scopes:                strings.Fields(s.scopes),
		Logger:                logger,
	}
	app, err := startApp(ctx, cfg, s.wait, logger)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Addr:              s.addr,
		Handler:           app.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	logger.Info("example app listening", "addr", s.addr, "url", relyingparty.BaseURL(s.redirectURL), "issuer", s.issuer)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return srv.Shutdown(shutdown)
	}
}

// startApp retries discovery until Gatehouse answers (it may start after
// the app, as in docker compose).
func startApp(ctx context.Context, cfg relyingparty.Config, wait time.Duration, logger *slog.Logger) (*relyingparty.App, error) {
	deadline := time.Now().Add(wait)
	for {
		app, err := relyingparty.New(ctx, cfg)
		if err == nil || time.Now().After(deadline) {
			return app, err
		}
		logger.Info("waiting for Gatehouse", "issuer", cfg.Issuer, "err", err)
		select {
		case <-time.After(2 * time.Second):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}
