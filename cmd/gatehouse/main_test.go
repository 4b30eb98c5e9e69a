package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/storage/storagetest"
)

// binary is the gatehouse binary built once for this test process.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "gatehouse-cli-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "gatehouse")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build gatehouse:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// testSecret is the system secret the CLI tests run with.
const testSecret = "cli-test-secret-0123456789abcdefghij"

// cli runs the binary with a clean environment: no GATEHOUSE_* variable from
// the caller, a data directory of its own and the test secret.
type cli struct {
	t   *testing.T
	dir string
	env map[string]string
}

func newCLI(t *testing.T) *cli {
	t.Helper()
	dir := t.TempDir()
	return &cli{t: t, dir: dir, env: map[string]string{
		"GATEHOUSE_DATA_DIR": dir,
		"GATEHOUSE_SECRET":   testSecret,
	}}
}

// backendCLIs returns a CLI on SQLite (the default DSN) and one on a fresh
// PostgreSQL database.
func backendCLIs(t *testing.T, fn func(t *testing.T, c *cli)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, newCLI(t)) })
	t.Run("postgres", func(t *testing.T) {
		c := newCLI(t)
		c.env["GATEHOUSE_DSN"] = storagetest.PostgresDSN(t)
		fn(t, c)
	})
}

func (c *cli) environ() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GATEHOUSE_") {
			env = append(env, kv)
		}
	}
	for k, v := range c.env {
		env = append(env, k+"="+v)
	}
	return env
}

func (c *cli) command(stdin string, args ...string) *exec.Cmd {
	cmd := exec.Command(binary, args...)
	cmd.Dir = c.dir
	cmd.Env = c.environ()
	cmd.Stdin = strings.NewReader(stdin)
	return cmd
}

// run runs the binary to completion and returns stdout, stderr and the exit code.
func (c *cli) run(stdin string, args ...string) (string, string, int) {
	c.t.Helper()
	cmd := c.command(stdin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if err != nil {
		exitErr, ok := err.(*exec.ExitError)
		if !ok {
			c.t.Fatalf("run gatehouse %v: %v", args, err)
		}
		code = exitErr.ExitCode()
	}
	return stdout.String(), stderr.String(), code
}

// ok runs the binary, fails the test unless it exits 0, and decodes its JSON
// stdout into out (when out is not nil).
func (c *cli) ok(out any, stdin string, args ...string) string {
	c.t.Helper()
	stdout, stderr, code := c.run(stdin, args...)
	if code != 0 {
		c.t.Fatalf("gatehouse %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, stdout, stderr)
	}
	if out != nil {
		if err := json.Unmarshal([]byte(stdout), out); err != nil {
			c.t.Fatalf("gatehouse %s: stdout is not JSON: %v\n%s", strings.Join(args, " "), err, stdout)
		}
	}
	return stdout
}

// fails runs the binary, fails the test unless it exits non-zero, and
// returns its stderr.
func (c *cli) fails(stdin string, args ...string) string {
	c.t.Helper()
	stdout, stderr, code := c.run(stdin, args...)
	if code == 0 {
		c.t.Fatalf("gatehouse %s succeeded, want a failure\nstdout: %s", strings.Join(args, " "), stdout)
	}
	return stderr
}

// process is a running "gatehouse serve" (or go run) with its stdout lines.
type process struct {
	cmd    *exec.Cmd
	lines  chan string
	stderr *lockedBuffer
	done   chan struct{}
	// exitCode is set when done is closed.
	exitCode int
}

// start starts cmd in its own process group and stops the group (SIGTERM,
// then SIGKILL) when the test ends.
func start(t *testing.T, cmd *exec.Cmd) *process {
	t.Helper()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, lines: make(chan string, 100), stderr: &lockedBuffer{}, done: make(chan struct{})}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
	}()
	go func() {
		_ = cmd.Wait()
		p.exitCode = cmd.ProcessState.ExitCode()
		close(p.done)
	}()
	t.Cleanup(func() { p.stop(t) })
	return p
}

// stop sends SIGTERM to the process group and waits for the process to end.
func (p *process) stop(t *testing.T) {
	pgid := p.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-p.done
		t.Errorf("the server did not stop within 30s of SIGTERM")
	}
}

// bannerLine is one "key: value" line of the dev-mode banner.
var bannerLine = regexp.MustCompile(`^([a-z_]+):\s+(\S+)$`)

// readBanner collects the dev-mode banner's "key: value" lines up to
// authorize_url.
func (p *process) readBanner(t *testing.T, timeout time.Duration) map[string]string {
	t.Helper()
	got := map[string]string{}
	deadline := time.After(timeout)
	for {
		select {
		case line, ok := <-p.lines:
			if !ok {
				t.Fatalf("the server ended before printing authorize_url; banner so far %v\nstderr:\n%s", got, p.stderr)
			}
			if m := bannerLine.FindStringSubmatch(line); m != nil {
				got[m[1]] = m[2]
				if m[1] == "authorize_url" {
					return got
				}
			}
		case <-deadline:
			t.Fatalf("no authorize_url within %s; banner so far %v\nstderr:\n%s", timeout, got, p.stderr)
		}
	}
}

// readLine returns the next stdout line.
func (p *process) readLine(t *testing.T, timeout time.Duration) string {
	t.Helper()
	select {
	case line, ok := <-p.lines:
		if !ok {
			t.Fatalf("the server ended early\nstderr:\n%s", p.stderr)
		}
		return line
	case <-time.After(timeout):
		t.Fatalf("no output within %s\nstderr:\n%s", timeout, p.stderr)
	}
	return ""
}

// lockedBuffer is a bytes.Buffer that exec's copying goroutine may write
// while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
