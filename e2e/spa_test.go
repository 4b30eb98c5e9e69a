package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// spaDir is the single-page app's npm project.
const spaDir = "../examples/spa"

// buildStamp in dist/ holds the digest of the inputs dist was built from.
const buildStamp = ".build-inputs"

func findChromium() (string, error) {
	for _, c := range []string{os.Getenv(chromiumEnv), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if c == "" {
			continue
		}
		if p, err := exec.LookPath(c); err == nil {
			return p, nil
		}
	}
	return "", errors.New("no Chromium (looked for $" + chromiumEnv + ", /usr/bin/chromium, /usr/bin/chromium-browser)")
}

// prepareSPA installs the SPA's node modules when they are missing and
// builds dist/ when it is missing or was built from other sources.
func prepareSPA() error {
	npm, err := exec.LookPath("npm")
	if err != nil {
		return errors.New("npm is not installed")
	}
	if _, err := os.Stat(filepath.Join(spaDir, "node_modules", "oidc-client-ts")); err != nil {
		if err := run(spaDir, npm, "ci", "--no-audit", "--no-fund"); err != nil {
			return fmt.Errorf("npm ci in examples/spa: %w", err)
		}
	}
	if _, err := os.Stat(axePath()); err != nil {
		return errors.New("axe-core is missing from examples/spa/node_modules: run npm ci there")
	}
	digest, err := spaInputsDigest()
	if err != nil {
		return err
	}
	if b, err := os.ReadFile(filepath.Join(spaDir, "dist", buildStamp)); err == nil && string(b) == digest {
		return nil
	}
	if err := run(spaDir, npm, "run", "--silent", "build"); err != nil {
		return fmt.Errorf("build the SPA: %w", err)
	}
	return os.WriteFile(filepath.Join(spaDir, "dist", buildStamp), []byte(digest), 0o644)
}

func run(dir, name string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, out)
	}
	return nil
}

// spaInputsDigest hashes everything the build reads besides node_modules.
func spaInputsDigest() (string, error) {
	h := sha256.New()
	var files []string
	for _, root := range []string{"src", "public"} {
		err := filepath.WalkDir(filepath.Join(spaDir, root), func(path string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				files = append(files, path)
			}
			return err
		})
		if err != nil {
			return "", fmt.Errorf("read SPA sources: %w", err)
		}
	}
	files = append(files, filepath.Join(spaDir, "build.mjs"), filepath.Join(spaDir, "package-lock.json"))
	slices.Sort(files)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return "", fmt.Errorf("read SPA sources: %w", err)
		}
		fmt.Fprintf(h, "%s %d\n", f, len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func axePath() string {
	return filepath.Join(spaDir, "node_modules", "axe-core", "axe.min.js")
}

// spaRoutes are the app's paths that serve index.html.
var spaRoutes = []string{"/", "/callback", "/signed-out"}

// startSPA serves dist/ like a static web host would, with config.json
// naming the issuer and client; the CSP lets the app call only itself and
// Gatehouse.
func startSPA(t *testing.T, srv *httptest.Server, issuer, clientID string) {
	t.Helper()
	config, err := json.Marshal(map[string]string{"issuer": issuer, "client_id": clientID})
	if err != nil {
		t.Fatal(err)
	}
	files := http.FileServer(http.Dir(filepath.Join(spaDir, "dist")))
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self' "+issuer+"; img-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
		h.Set("Referrer-Policy", "no-referrer")
		switch {
		case r.URL.Path == "/config.json":
			h.Set("Content-Type", "application/json")
			h.Set("Cache-Control", "no-store")
			_, _ = w.Write(config)
		case slices.Contains(spaRoutes, r.URL.Path):
			h.Set("Cache-Control", "no-store")
			http.ServeFile(w, r, filepath.Join(spaDir, "dist", "index.html"))
		default:
			files.ServeHTTP(w, r)
		}
	})
	srv.Start()
	t.Cleanup(srv.Close)
}
