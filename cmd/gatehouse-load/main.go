// Command gatehouse-load puts a running Gatehouse under load and measures it:
// requests per second, latency percentiles, errors, and the server's CPU and
// memory read from /proc by its pid. It provisions what each scenario needs
// (roles, clients, users, browser sessions) through the admin API, so it
// needs the credentials of a client holding gatehouse:admin.
//
// It is meant for loopback targets only: it is a load generator, and it
// refuses any other host.
//
// See docs/PERFORMANCE.md for the scenarios, the commands and the figures.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "startup" {
		if err := runStartup(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "gatehouse-load startup:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "gatehouse-load:", err)
		os.Exit(1)
	}
}

// options are the command-line flags of a load run.
type options struct {
	target       string
	scenarios    []string
	concurrency  int
	duration     time.Duration
	warmup       time.Duration
	pid          int
	users        int
	poolSize     int
	out          string
	adminID      string
	adminSecret  string
	meta         map[string]string
	requestLimit time.Duration
	idTokenAlg   string
	cpuProfile   string
	procs        int
	repeat       int
}

type metaFlag map[string]string

func (m metaFlag) String() string { return fmt.Sprint(map[string]string(m)) }

func (m metaFlag) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok || k == "" {
		return fmt.Errorf("want key=value, got %q", v)
	}
	m[k] = val
	return nil
}

func parseFlags(args []string) (options, error) {
	fs := flag.NewFlagSet("gatehouse-load", flag.ContinueOnError)
	o := options{meta: map[string]string{}}
	var scenarios string
	fs.StringVar(&o.target, "target", "http://127.0.0.1:8080", "base URL the requests go to (loopback only); the issuer is read from its discovery document")
	fs.StringVar(&scenarios, "scenario", "client_credentials", "comma-separated scenarios: "+strings.Join(scenarioNames(), ", ")+"; or all")
	fs.IntVar(&o.concurrency, "c", 32, "concurrent workers (each one request or flow at a time)")
	fs.DurationVar(&o.duration, "d", 15*time.Second, "measured duration of each scenario")
	fs.DurationVar(&o.warmup, "warmup", 3*time.Second, "unmeasured load before each scenario's window")
	fs.IntVar(&o.pid, "pid", 0, "pid of the server process, to report its CPU and RSS from /proc (0: not reported)")
	fs.IntVar(&o.users, "users", 0, "users of the login scenarios (default: c for login, 1200 for login_totp: one TOTP login per user per 30 s step)")
	fs.IntVar(&o.poolSize, "tokens", 2000, "access tokens in the introspection pool")
	fs.StringVar(&o.out, "out", "", "write the raw results as JSON to this file")
	fs.StringVar(&o.idTokenAlg, "id-token-alg", "RS256", "signing algorithm of the web apps' ID tokens (refresh, code and login scenarios): RS256 or ES256")
	fs.DurationVar(&o.requestLimit, "timeout", 10*time.Second, "timeout of one HTTP request")
	fs.IntVar(&o.repeat, "repeat", 1, "measured windows per scenario (each after its own warm-up, on one preparation); the median window by rate is marked")
	fs.IntVar(&o.procs, "procs", 1, "OS threads running the load generator's Go code at once (GOMAXPROCS): one leaves the most of the machine to the server and its database; raise it if the load generator's own CPU nears one core")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write the load generator's own CPU profile to this file (to see what the load itself costs)")
	fs.Var(metaFlag(o.meta), "meta", "key=value recorded in the JSON results (repeatable), e.g. -meta commit=$(git rev-parse HEAD)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	o.adminID = os.Getenv("GATEHOUSE_LOAD_CLIENT_ID")
	o.adminSecret = os.Getenv("GATEHOUSE_LOAD_CLIENT_SECRET")
	if o.adminID == "" || o.adminSecret == "" {
		return o, errors.New("set GATEHOUSE_LOAD_CLIENT_ID and GATEHOUSE_LOAD_CLIENT_SECRET to a client holding a role with gatehouse:admin (see docs/PERFORMANCE.md)")
	}
	if o.concurrency < 1 || o.duration <= 0 || o.warmup < 0 || o.procs < 1 || o.repeat < 1 {
		return o, errors.New("-c, -procs and -repeat must be at least 1 and -d positive")
	}
	if scenarios == "all" {
		o.scenarios = scenarioNames()
	} else {
		for _, s := range strings.Split(scenarios, ",") {
			if _, ok := scenarioByName(s); !ok {
				return o, fmt.Errorf("unknown scenario %q (known: %s)", s, strings.Join(scenarioNames(), ", "))
			}
			o.scenarios = append(o.scenarios, s)
		}
	}
	if err := checkLoopback(o.target); err != nil {
		return o, err
	}
	return o, nil
}

// checkLoopback refuses targets other than loopback addresses: load is only
// ever put on one's own machine.
func checkLoopback(target string) error {
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("-target %q is not an http(s) URL", target)
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("-target %q: only loopback targets (127.0.0.1, [::1], localhost) may be load-tested", target)
	}
	return nil
}

// report is the JSON document -out writes.
type report struct {
	StartedAt  time.Time         `json:"started_at"`
	Target     string            `json:"target"`
	Issuer     string            `json:"issuer"`
	GoVersion  string            `json:"loadgen_go_version"`
	CPUs       int               `json:"cpus"`
	Procs      int               `json:"loadgen_procs"`
	Meta       map[string]string `json:"meta"`
	Runs       []*result         `json:"runs"`
	Concurrent int               `json:"concurrency"`
}

func run(args []string) error {
	o, err := parseFlags(args)
	if err != nil {
		return err
	}
	// With two or more threads for a few dozen workers, Go's scheduler
	// spends much of the load generator's CPU handing goroutines between
	// threads (0.45 cores against 0.26 at 2,000 requests/s on two cores).
	runtime.GOMAXPROCS(o.procs)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	h, err := newHarness(ctx, o)
	if err != nil {
		return err
	}
	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	rep := &report{StartedAt: time.Now().UTC(), Target: o.target, Issuer: h.issuer, GoVersion: runtime.Version(),
		CPUs: runtime.NumCPU(), Procs: o.procs, Meta: o.meta, Concurrent: o.concurrency}
	printHeader()
	for _, name := range o.scenarios {
		sc, _ := scenarioByName(name)
		results, err := h.runScenario(ctx, sc)
		if err != nil {
			return fmt.Errorf("scenario %s: %w", name, err)
		}
		for _, res := range results {
			printResult(res, o.repeat > 1)
		}
		rep.Runs = append(rep.Runs, results...)
		if err := writeReport(o.out, rep); err != nil {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return nil
}

func writeReport(path string, rep any) error {
	if path == "" {
		return nil
	}
	data, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}

func printHeader() {
	fmt.Printf("%-28s %5s %9s %8s %8s %8s %8s %7s %9s %8s %6s %6s\n",
		"scenario", "c", "ops/s", "p50 ms", "p90 ms", "p99 ms", "ops", "errors", "srv cpu", "srv rss", "busy", "probe")
}

// printResult prints one window; with several windows per scenario, the
// median one is marked with '*' after its name.
func printResult(r *result, markMedian bool) {
	cpu, rss := "-", "-"
	if r.Server != nil {
		cpu = fmt.Sprintf("%.2f", r.Server.CPUCores)
		rss = fmt.Sprintf("%.0fMB", r.Server.RSSMB)
	}
	name := r.Scenario
	if markMedian && r.Median {
		name += " *"
	}
	fmt.Printf("%-28s %5d %9.1f %8.2f %8.2f %8.2f %8d %7d %9s %8s %5.0f%% %6.2f\n",
		name, r.Concurrency, r.OpsPerSecond, r.Latency.P50, r.Latency.P90, r.Latency.P99,
		r.Ops, r.Errors, cpu, rss, r.MachineBusy*100, r.CPUProbeMs)
	for msg, n := range r.ErrorSamples {
		fmt.Printf("    %d× %s\n", n, msg)
	}
}
