package e2e

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/gatehouse/gatehouse/server/leakcheck"
)

// Environment variables of the browser tests.
const (
	// requireBrowserEnv=1 turns a missing Chromium, npm or SPA build into a failure.
	requireBrowserEnv = "GATEHOUSE_TEST_REQUIRE_BROWSER"
	// screenshotsEnv=1 writes the screenshots to docs/screenshots (else to a temp dir).
	screenshotsEnv = "GATEHOUSE_SCREENSHOTS"
	// chromiumEnv names another Chromium binary.
	chromiumEnv = "GATEHOUSE_CHROMIUM"
)

// logSink captures every log line of Gatehouse and the example app and
// remembers every password, secret and TOTP key the tests used. TestMain
// fails the run if any of them was logged.
var logSink leakcheck.Capture

// remember records a value that must never appear in a log.
func remember(values ...string) { logSink.Remember(values...) }

func TestMain(m *testing.M) {
	code := m.Run()
	for _, leak := range logSink.Leaks() {
		fmt.Fprintln(os.Stderr, "FAIL:", leak)
		code = max(code, 1)
	}
	os.Exit(code)
}

// prerequisites are checked once per process: Chromium, then the SPA
// build (npm ci when node_modules is missing, esbuild when dist is stale).
var (
	prereqOnce sync.Once
	prereqErr  error
	chromium   string
)

// requireBrowser skips t, loudly, when the browser tests cannot run here,
// or fails it when GATEHOUSE_TEST_REQUIRE_BROWSER=1.
func requireBrowser(t *testing.T) {
	t.Helper()
	prereqOnce.Do(func() {
		chromium, prereqErr = findChromium()
		if prereqErr == nil {
			prereqErr = prepareSPA()
		}
		if prereqErr != nil {
			// On stderr too: go test hides the skip reasons of passing packages.
			fmt.Fprintln(os.Stderr, skipBanner(prereqErr))
		}
	})
	if prereqErr == nil {
		return
	}
	if os.Getenv(requireBrowserEnv) == "1" {
		t.Fatalf("%v\n%s=1: the browser tests are required", prereqErr, requireBrowserEnv)
	}
	t.Skip(skipBanner(prereqErr))
}

func skipBanner(err error) string {
	line := strings.Repeat("*", 78)
	return fmt.Sprintf("%s\n*** BROWSER TESTS SKIPPED: %v\n*** Install Debian's chromium and Node.js with npm, then run `npm ci` in examples/spa\n*** (set %s=1 to make this a failure, as CI does).\n%s", line, err, requireBrowserEnv, line)
}
