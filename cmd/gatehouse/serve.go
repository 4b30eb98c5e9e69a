package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/server"
	"github.com/gatehouse/gatehouse/server/credential"
	"github.com/gatehouse/gatehouse/server/keys"
	"github.com/gatehouse/gatehouse/server/manage"
	"github.com/gatehouse/gatehouse/server/policy"
	"github.com/gatehouse/gatehouse/server/secret"
	"github.com/gatehouse/gatehouse/server/source"
	"github.com/gatehouse/gatehouse/storage/sqlstore"
)

const (
	envIssuer  = "GATEHOUSE_ISSUER"
	envAddr    = "GATEHOUSE_ADDR"
	envTLSCert = "GATEHOUSE_TLS_CERT"
	envTLSKey  = "GATEHOUSE_TLS_KEY"

	envRefreshGrace = "GATEHOUSE_REFRESH_GRACE_PERIOD"
	// envAllowPrivateBackchannel lets outbound requests (back-channel
	// logout, jwks_uri) reach loopback and private addresses over http.
	envAllowPrivateBackchannel = "GATEHOUSE_ALLOW_PRIVATE_BACKCHANNEL"
	envTrustedProxies          = "GATEHOUSE_TRUSTED_PROXIES"
	envLockout                 = "GATEHOUSE_LOCKOUT"
	// maxRefreshGrace keeps the grace window short: within it a stolen
	// refresh token can be used alongside the legitimate one.
	maxRefreshGrace = time.Minute

	defaultAddr    = ":8080"
	defaultDevAddr = "127.0.0.1:8080"

	shutdownTimeout = 15 * time.Second
	// cleanupInterval is how often expired sessions and tokens are deleted.
	cleanupInterval = 10 * time.Minute
)

func (a *app) serveCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the authorization server",
		Long: `Run the authorization server.

In production, GATEHOUSE_ISSUER (https) and GATEHOUSE_SECRET (32 bytes or more)
are required. With --dev, Gatehouse allows an http issuer on localhost, keeps a
generated secret in the data directory, seeds a demo client and user and prints
their credentials with a ready authorization URL.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// --dev and --no-migrate may also come from the configuration file.
			dev := a.setting(cmd, "dev", "", "false") == "true"
			noMigrate := a.setting(cmd, "no-migrate", "", "false") == "true"
			return a.serve(cmd, dev, noMigrate)
		},
	}
	f := cmd.Flags()
	f.String("issuer", "", "public base URL, the iss of every token (env "+envIssuer+"; default in dev mode http://localhost:<port>)")
	f.String("addr", "", "listen address (env "+envAddr+"; default "+defaultAddr+", "+defaultDevAddr+" in dev mode)")
	f.String(flagSecret, "", "system secret, 32 bytes or more (env "+envSecret+", preferred: a command line is visible to other users)")
	f.String("tls-cert", "", "TLS certificate file (PEM); serve HTTPS when given with --tls-key (env "+envTLSCert+")")
	f.String("tls-key", "", "TLS private key file (PEM) (env "+envTLSKey+")")
	f.Bool("dev", false, "development mode: http issuer on localhost, generated secret, demo client and user")
	f.Bool("no-migrate", false, "do not apply migrations; refuse to start if some are pending")
	addLifetimeFlags(f)
	addMailFlags(f)
	addDynamicRegistrationFlags(f)
	f.String("trusted-proxies", "", "comma-separated addresses or CIDR prefixes of reverse proxies whose X-Forwarded-For names the client (env "+envTrustedProxies+")")
	f.String("lockout", "", "sign-in lockout: THRESHOLD/WINDOW/DURATION,DURATION,... (env "+envLockout+", default 5/10m/1m,5m,15m)")
	f.Bool("allow-private-backchannel", false, "let back-channel logout and jwks_uri requests reach loopback and private addresses over http (env "+envAllowPrivateBackchannel+"=true; implied by --dev)")
	f.String("pprof-addr", "", "serve Go's profiler (net/http/pprof) on this loopback address, to profile under load (env "+envPprofAddr+"; off by default)")
	f.String("refresh-grace-period", "", "how long a rotated refresh token may be used again, for apps open in several tabs (env "+envRefreshGrace+", default 0s: never)")
	return cmd
}

// serveConfig is serve's settings, resolved and checked.
type serveConfig struct {
	dev, noMigrate  bool
	issuer, addr    string
	dataDir, dsn    string
	tlsCert, tlsKey string
	lifetimes       server.Lifetimes
	refreshGrace    time.Duration
	allowPrivate    bool
	trustedProxies  []netip.Prefix
	lockout         policy.Lockout
	mail            mailSettings
	dcr             bool
	dcrTokens       []string
}

func (a *app) serveConfig(cmd *cobra.Command, dev, noMigrate bool) (serveConfig, error) {
	c := serveConfig{dev: dev, noMigrate: noMigrate}
	var err error
	if c.dataDir, err = a.dataDir(cmd); err != nil {
		return c, err
	}
	c.dsn = a.dsn(cmd, c.dataDir)
	c.addr = a.setting(cmd, "addr", envAddr, defaultAddr)
	if dev {
		c.addr = a.setting(cmd, "addr", envAddr, defaultDevAddr)
	}
	if c.issuer = a.setting(cmd, "issuer", envIssuer, ""); c.issuer != "" {
		if c.issuer, err = checkIssuer(c.issuer, dev); err != nil {
			return c, err
		}
	} else if !dev {
		return c, fmt.Errorf("%s is not set: give the public https URL of this server", envIssuer)
	}
	c.tlsCert = a.setting(cmd, "tls-cert", envTLSCert, "")
	c.tlsKey = a.setting(cmd, "tls-key", envTLSKey, "")
	if (c.tlsCert == "") != (c.tlsKey == "") {
		return c, fmt.Errorf("TLS needs both %s and %s", envTLSCert, envTLSKey)
	}
	if c.lifetimes, err = a.lifetimes(cmd); err != nil {
		return c, err
	}
	c.allowPrivate = dev || a.setting(cmd, "allow-private-backchannel", envAllowPrivateBackchannel, "false") == "true"
	if c.trustedProxies, err = source.ParsePrefixes(a.setting(cmd, "trusted-proxies", envTrustedProxies, "")); err != nil {
		return c, fmt.Errorf("%s: %w", envTrustedProxies, err)
	}
	if c.lockout, err = a.lockoutPolicy(cmd); err != nil {
		return c, err
	}
	if c.mail, err = a.mailSettings(cmd, dev, c.dataDir); err != nil {
		return c, err
	}
	if c.dcr, c.dcrTokens, err = a.dynamicRegistration(cmd); err != nil {
		return c, err
	}
	grace := a.setting(cmd, "refresh-grace-period", envRefreshGrace, "0s")
	if c.refreshGrace, err = time.ParseDuration(grace); err != nil || c.refreshGrace < 0 || c.refreshGrace > maxRefreshGrace {
		return c, fmt.Errorf("%s %q must be a duration from 0s to %s", envRefreshGrace, grace, maxRefreshGrace)
	}
	return c, nil
}

// checkIssuer returns the issuer without a trailing slash if it is an https
// URL (or, in dev mode, http on a loopback host) without path, query or
// fragment.
func checkIssuer(issuer string, dev bool) (string, error) {
	u, err := url.Parse(issuer)
	if err != nil || !u.IsAbs() || u.Host == "" || u.User != nil || u.Opaque != "" || strings.ContainsAny(issuer, "?#") {
		return "", fmt.Errorf("%s %q must be an absolute URL without query or fragment", envIssuer, issuer)
	}
	if u.Path != "" && u.Path != "/" {
		return "", fmt.Errorf("%s %q must not have a path: Gatehouse serves its endpoints at the root", envIssuer, issuer)
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && dev && isLocalHost(u.Hostname()):
	case u.Scheme == "http" && dev:
		return "", fmt.Errorf("%s %q: an http issuer is allowed only on localhost, 127.0.0.1 or [::1]", envIssuer, issuer)
	default:
		return "", fmt.Errorf("%s %q must be https (http only with --dev, on localhost)", envIssuer, issuer)
	}
	return strings.TrimSuffix(issuer, "/"), nil
}

func isLocalHost(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

func (a *app) serve(cmd *cobra.Command, dev, noMigrate bool) error {
	cfg, err := a.serveConfig(cmd, dev, noMigrate)
	if err != nil {
		return err
	}
	logFormat := "json"
	if dev {
		logFormat = "text"
	}
	logger, err := a.logger(cmd, "info", logFormat)
	if err != nil {
		return err
	}
	src := secretFromEnv
	if dev {
		src = secretOrNewFile
	}
	keyring, err := a.keyring(cmd, cfg.dataDir, src, logger)
	if err != nil {
		return err
	}
	var tlsConfig *tls.Config
	if cfg.tlsCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.tlsCert, cfg.tlsKey)
		if err != nil {
			return fmt.Errorf("load TLS certificate: %w", err)
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}

	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	// Bind first: with port 0 the dev issuer needs the port actually bound.
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	defer ln.Close()
	if cfg.issuer == "" {
		_, port, _ := net.SplitHostPort(ln.Addr().String())
		cfg.issuer = "http://localhost:" + port
	}

	store, err := openDatabase(ctx, cfg.dsn, sqlstore.Options{Logger: logger, RefreshGracePeriod: cfg.refreshGrace})
	if err != nil {
		return err
	}
	defer store.Close()
	if err := migrateOnStart(ctx, store, cfg.noMigrate, logger); err != nil {
		return err
	}

	passwords := credential.NewPasswords(credential.DefaultPasswordParams, 0, 0)
	km := keys.NewManager(keys.Config{Store: store, Sealer: keyring.AEAD(secret.PurposeAtRest), Logger: logger})
	if err := km.EnsureKeys(ctx); err != nil {
		return fmt.Errorf("signing keys: %w", err)
	}
	sender, err := cfg.mail.sender(logger)
	if err != nil {
		return err
	}
	registry := prometheus.NewRegistry()
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	srv, err := server.New(server.Config{
		Issuer:    cfg.issuer,
		Dev:       cfg.dev,
		Store:     store,
		Keyring:   keyring,
		Keys:      km,
		Passwords: passwords,
		Logger:    logger,
		Lifetimes: cfg.lifetimes,
		// Dev mode talks to jwks_uri endpoints on this machine.
		AllowPrivateOutbound: cfg.allowPrivate,
		TrustedProxies:       cfg.trustedProxies,
		Lockout:              cfg.lockout,
		Mail:                 sender,
		Registration:         cfg.mail.registration,
		MailsPerHour:         cfg.mail.perHour,
		DynamicRegistration:  cfg.dcr,
		RegistrationTokens:   cfg.dcrTokens,
		Metrics:              registry,
		Migrations:           store,
	})
	if err != nil {
		return fmt.Errorf("build server: %w", err)
	}

	var demo *manage.Demo
	if cfg.dev {
		hasher := credential.NewSecretHasher(keyring.Digester(secret.PurposeClientSecret))
		d, err := manage.New(store, passwords, hasher, nil).SeedDemo(ctx)
		if err != nil {
			return fmt.Errorf("seed demo: %w", err)
		}
		demo = &d
	}

	httpSrv := &http.Server{
		Handler:           srv.Handler(),
		TLSConfig:         tlsConfig,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	if addr := a.setting(cmd, "pprof-addr", envPprofAddr, ""); addr != "" {
		if _, err := servePprof(ctx, addr, logger); err != nil {
			return err
		}
	}
	var wg sync.WaitGroup
	wg.Go(func() { km.Run(ctx) })
	wg.Go(func() { srv.RunCleanup(ctx, cleanupInterval) })
	serveErr := make(chan error, 1)
	go func() {
		if tlsConfig != nil {
			serveErr <- httpSrv.ServeTLS(ln, "", "")
		} else {
			serveErr <- httpSrv.Serve(ln)
		}
	}()
	logger.Info("gatehouse is listening", "addr", ln.Addr().String(), "issuer", cfg.issuer, "tls", tlsConfig != nil, "dev", cfg.dev)
	if err := a.printStarted(cfg.issuer, ln.Addr().String(), demo); err != nil {
		return err
	}

	select {
	case err = <-serveErr:
		err = fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
		stop() // a second signal kills at once
		logger.Info("shutting down")
		shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		defer cancel()
		if serr := httpSrv.Shutdown(shutdownCtx); serr != nil {
			err = fmt.Errorf("shutdown: %w", serr)
		}
		if cerr := srv.Close(shutdownCtx); cerr != nil {
			logger.Warn("queued mails not sent before shutdown", "err", cerr)
		}
	}
	// Run stops with ctx; on a serve error ctx is still live.
	stop()
	wg.Wait()
	return err
}

// migrateOnStart applies pending migrations, or with noMigrate refuses to
// start on a schema that is behind.
func migrateOnStart(ctx context.Context, store *sqlstore.Store, noMigrate bool, logger *slog.Logger) error {
	if noMigrate {
		pending, err := store.PendingMigrations(ctx)
		if err != nil {
			return fmt.Errorf("check migrations: %w", err)
		}
		if pending {
			return errors.New("the database has pending migrations and --no-migrate is set: run \"gatehouse migrate\" first")
		}
		return nil
	}
	version, err := store.Migrate(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	logger.Info("database schema is up to date", "dialect", store.Dialect(), "version", version)
	return nil
}
