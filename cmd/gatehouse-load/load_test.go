package main

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

func TestCheckLoopback(t *testing.T) {
	for target, ok := range map[string]bool{
		"http://127.0.0.1:8080":    true,
		"http://[::1]:8080":        true,
		"https://localhost":        true,
		"http://10.0.0.1:8080":     false,
		"http://example.com":       false,
		"http://0.0.0.0:8080":      false,
		"ftp://127.0.0.1":          false,
		"127.0.0.1:8080":           false,
		"http://127.0.0.1.nip.io/": false,
	} {
		if err := checkLoopback(target); (err == nil) != ok {
			t.Errorf("checkLoopback(%q) = %v, want ok=%v", target, err, ok)
		}
	}
}

func TestSummarize(t *testing.T) {
	l := &workerLog{errors: map[string]int{}}
	for i := 1; i <= 100; i++ {
		l.latencies = append(l.latencies, time.Duration(i)*time.Millisecond)
	}
	l.fail(errWait)
	res := summarize("x", 1, 10*time.Second, []*workerLog{l})
	if res.Ops != 100 || res.OpsPerSecond != 10 || res.Errors != 1 {
		t.Fatalf("ops %d, %v/s, errors %d", res.Ops, res.OpsPerSecond, res.Errors)
	}
	if res.Latency.P50 != 50 || res.Latency.P90 != 90 || res.Latency.P99 != 99 || res.Latency.Max != 100 || res.Latency.Mean != 50.5 {
		t.Fatalf("latency %+v", res.Latency)
	}
}

func TestUserPoolOneTOTPLoginPerStep(t *testing.T) {
	users := []*loadUser{{name: "a", totpSecret: "S"}, {name: "b", totpSecret: "S"}}
	p := &userPool{users: users}
	now := time.Unix(30*1000, 0)
	first, _ := p.take(now)
	second, _ := p.take(now.Add(time.Second))
	if first == nil || second == nil || first == second {
		t.Fatalf("two users in one step: %v, %v", first, second)
	}
	if u, err := p.take(now.Add(2 * time.Second)); err != errWait {
		t.Fatalf("a third login in the step got %v, %v; want errWait", u, err)
	}
	if u, err := p.take(now.Add(30 * time.Second)); err != nil || u != first {
		t.Fatalf("next step: %v, %v; want the first user again", u, err)
	}
}

func TestReadProc(t *testing.T) {
	ps, err := readProc(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if !ps.haveMemory || ps.rssKB == 0 || ps.peakRSSKB < ps.rssKB {
		t.Fatalf("own /proc: %+v", ps)
	}
	if busy, total, ok := readMachine(); !ok || total == 0 || busy > total {
		t.Fatalf("/proc/stat: busy %d of %d (%v)", busy, total, ok)
	}
}

// TestScenariosAgainstARealServer runs every scenario briefly against a
// real gatehouse serve on SQLite, provisioned as docs/perf/run.sh does.
func TestScenariosAgainstARealServer(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "gatehouse")
	build := exec.Command("go", "build", "-o", bin, "../gatehouse")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build gatehouse: %v\n%s", err, out)
	}
	env := append(os.Environ(),
		"GATEHOUSE_DSN=sqlite://"+filepath.Join(dir, "gatehouse.db"),
		"GATEHOUSE_SECRET=load-test-secret-0123456789abcdef0123456789",
		"GATEHOUSE_ISSUER=https://gatehouse.load.test",
		"GATEHOUSE_ADDR=127.0.0.1:0",
		"GATEHOUSE_LOG_LEVEL=warn",
	)
	gh := func(args ...string) []byte {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("gatehouse %v: %v", args, err)
		}
		return out
	}
	gh("migrate")
	gh("roles", "create", "load-admin", "--scope", "gatehouse:admin")
	var admin struct {
		ID     string `json:"client_id"`
		Secret string `json:"client_secret"`
	}
	if err := json.Unmarshal(gh("clients", "create", "--name", "load", "--grant-type", "client_credentials", "--scope", "gatehouse:admin", "--json"), &admin); err != nil {
		t.Fatal(err)
	}
	gh("clients", "grant", admin.ID, "load-admin")

	serve := exec.Command(bin, "serve", "--json")
	serve.Env = env
	stdout, err := serve.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = serve.Process.Kill(); _ = serve.Wait() })
	var started struct {
		Addr string `json:"addr"`
	}
	line, err := bufio.NewReader(stdout).ReadBytes('\n')
	if err != nil || json.Unmarshal(line, &started) != nil || started.Addr == "" {
		t.Fatalf("serve --json printed %q (%v)", line, err)
	}

	t.Setenv("GATEHOUSE_LOAD_CLIENT_ID", admin.ID)
	t.Setenv("GATEHOUSE_LOAD_CLIENT_SECRET", admin.Secret)
	out := filepath.Join(dir, "results.json")
	err = run([]string{"-target", "http://" + started.Addr, "-pid", strconv.Itoa(serve.Process.Pid),
		"-scenario", "all", "-c", "2", "-d", "1s", "-warmup", "200ms", "-users", "3", "-tokens", "10",
		"-out", out, "-meta", "test=yes"})
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var rep report
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Runs) != len(scenarios) || rep.Issuer != "https://gatehouse.load.test" || rep.Meta["test"] != "yes" {
		t.Fatalf("report: %d runs, issuer %q, meta %v", len(rep.Runs), rep.Issuer, rep.Meta)
	}
	for _, r := range rep.Runs {
		if r.Errors != 0 {
			t.Errorf("%s: %d errors: %v", r.Scenario, r.Errors, r.ErrorSamples)
		}
		// Enrollment used each TOTP user's code of this 30-second step:
		// login_totp signs in only if the window reaches the next step.
		if r.Ops == 0 && r.Scenario != "login_totp" {
			t.Errorf("%s: no operation completed", r.Scenario)
		}
		if r.Server == nil || r.Server.RSSMB <= 0 {
			t.Errorf("%s: no server figures from /proc: %+v", r.Scenario, r.Server)
		}
		if r.CPUProbeMs <= 0 {
			t.Errorf("%s: no CPU probe after the window", r.Scenario)
		}
	}

	// -repeat measures several windows on one preparation and marks the
	// median one by rate.
	err = run([]string{"-target", "http://" + started.Addr, "-scenario", "client_credentials", "-c", "2",
		"-d", "300ms", "-warmup", "100ms", "-repeat", "3", "-out", out})
	if err != nil {
		t.Fatal(err)
	}
	rep = report{}
	if data, err = os.ReadFile(out); err != nil || json.Unmarshal(data, &rep) != nil || len(rep.Runs) != 3 {
		t.Fatalf("-repeat 3 report: %v, %d runs", err, len(rep.Runs))
	}
	var medians []*result
	for i, r := range rep.Runs {
		if r.Window != i+1 || r.Ops == 0 {
			t.Errorf("window %d: number %d, %d ops", i+1, r.Window, r.Ops)
		}
		if r.Median {
			medians = append(medians, r)
		}
	}
	if len(medians) != 1 {
		t.Fatalf("%d windows marked median, want 1", len(medians))
	}
	below, above := 0, 0
	for _, r := range rep.Runs {
		if r.OpsPerSecond < medians[0].OpsPerSecond {
			below++
		}
		if r.OpsPerSecond > medians[0].OpsPerSecond {
			above++
		}
	}
	if below > 1 || above > 1 {
		t.Errorf("the window marked median (%v/s) has %d windows below and %d above", medians[0].OpsPerSecond, below, above)
	}
}
