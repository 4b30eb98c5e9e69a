package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"
)

// op is one unit of work of a worker: a request or a whole flow. It
// returns an error for anything but the expected success, or errWait when
// it could not start yet.
type op func(ctx context.Context) error

// errWait is an op that did not start (no TOTP user free in this 30-second
// step): the worker pauses, and nothing is recorded.
var errWait = errors.New("nothing to do yet")

// scenario prepares one op per worker; preparation (users, sessions,
// tokens) is not measured.
type scenario struct {
	name    string
	prepare func(ctx context.Context, h *harness, workers int) ([]op, error)
}

// result is one scenario's measured window.
type result struct {
	Scenario        string         `json:"scenario"`
	Concurrency     int            `json:"concurrency"`
	DurationSeconds float64        `json:"duration_seconds"`
	Ops             int            `json:"ops"`
	OpsPerSecond    float64        `json:"ops_per_second"`
	HTTPRequests    int64          `json:"http_requests"`
	RequestsPerSec  float64        `json:"http_requests_per_second"`
	Errors          int            `json:"errors"`
	ErrorSamples    map[string]int `json:"error_samples,omitempty"`
	Latency         latency        `json:"latency_ms"`
	Server          *serverStats   `json:"server,omitempty"`
	LoadGenCPU      float64        `json:"loadgen_cpu_cores"`
	MachineBusy     float64        `json:"machine_cpu_busy"`
	// CPUProbeMs is the machine's speed right after the window: one
	// RSA-2048 signature on one core, the load stopped (see cpuProbe).
	CPUProbeMs float64 `json:"cpu_probe_rsa_ms"`
	// Window is the window's number (from 1) with -repeat; Median marks
	// the window whose rate is the median of the scenario's windows.
	Window int  `json:"window"`
	Median bool `json:"median"`
}

// latency percentiles of the ops, in milliseconds.
type latency struct {
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
}

// workerLog is what one worker saw in the window; only that worker writes it.
type workerLog struct {
	latencies []time.Duration
	errors    map[string]int
	failed    int
}

const maxErrorText = 160

func (l *workerLog) fail(err error) {
	l.failed++
	msg := err.Error()
	if len(msg) > maxErrorText {
		msg = msg[:maxErrorText] + "…"
	}
	if len(l.errors) < 20 || l.errors[msg] > 0 {
		l.errors[msg]++
	}
}

// runScenario prepares sc and measures it. With -repeat n it measures n
// windows (each after its own warm-up) on the same preparation and marks
// the one with the median rate: on a shared machine one window's rate
// varies by several per cent from the next.
func (h *harness) runScenario(ctx context.Context, sc scenario) ([]*result, error) {
	fmt.Printf("# %s: preparing %d workers\n", sc.name, h.o.concurrency)
	ops, err := sc.prepare(ctx, h, h.o.concurrency)
	if err != nil {
		return nil, err
	}
	var results []*result
	for i := range h.o.repeat {
		res, err := h.measure(ctx, sc.name, ops)
		if err != nil {
			return nil, err
		}
		res.Window = i + 1
		results = append(results, res)
	}
	byRate := slices.Clone(results)
	slices.SortStableFunc(byRate, func(a, b *result) int { return cmp.Compare(a.OpsPerSecond, b.OpsPerSecond) })
	byRate[(len(byRate)-1)/2].Median = true
	return results, nil
}

// measure runs warm-up then one measured window with one goroutine per op,
// and summarizes the window: ops started inside it count.
func (h *harness) measure(ctx context.Context, name string, ops []op) (*result, error) {
	begin := time.Now()
	windowStart := begin.Add(h.o.warmup)
	windowEnd := windowStart.Add(h.o.duration)

	logs := make([]*workerLog, len(ops))
	var wg sync.WaitGroup
	for i, o := range ops {
		l := &workerLog{latencies: make([]time.Duration, 0, 4096), errors: map[string]int{}}
		logs[i] = l
		wg.Go(func() {
			for ctx.Err() == nil {
				t0 := time.Now()
				if !t0.Before(windowEnd) {
					return
				}
				err := o(ctx)
				if errors.Is(err, errWait) {
					time.Sleep(50 * time.Millisecond)
					continue
				}
				if t0.Before(windowStart) {
					continue
				}
				if err != nil {
					l.fail(err)
					continue
				}
				l.latencies = append(l.latencies, time.Since(t0))
			}
		})
	}

	// The resource figures cover exactly the window.
	var before, after snapshot
	var snapErr error
	var snapWG sync.WaitGroup
	snapWG.Go(func() {
		sleepUntil(ctx, windowStart)
		before, snapErr = h.snapshot()
		sleepUntil(ctx, windowEnd)
		after, _ = h.snapshot()
	})
	sleepUntil(ctx, windowStart)
	requestsAtStart := h.requests.Load()
	fmt.Printf("# %s: measuring for %s\n", name, h.o.duration)
	sleepUntil(ctx, windowEnd)
	requestsInWindow := h.requests.Load() - requestsAtStart
	wg.Wait()
	snapWG.Wait()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if snapErr != nil {
		return nil, snapErr
	}

	res := summarize(name, len(ops), h.o.duration, logs)
	res.HTTPRequests = requestsInWindow
	res.RequestsPerSec = float64(requestsInWindow) / h.o.duration.Seconds()
	res.Server, res.LoadGenCPU, res.MachineBusy = compare(before, after)
	probe, err := cpuProbe()
	if err != nil {
		return nil, err
	}
	res.CPUProbeMs = probe
	return res, nil
}

func summarize(name string, workers int, window time.Duration, logs []*workerLog) *result {
	res := &result{Scenario: name, Concurrency: workers, DurationSeconds: window.Seconds(), ErrorSamples: map[string]int{}}
	var all []time.Duration
	for _, l := range logs {
		all = append(all, l.latencies...)
		res.Errors += l.failed
		for msg, n := range l.errors {
			res.ErrorSamples[msg] += n
		}
	}
	res.Ops = len(all)
	res.OpsPerSecond = float64(len(all)) / window.Seconds()
	if len(all) == 0 {
		return res
	}
	slices.Sort(all)
	var sum time.Duration
	for _, d := range all {
		sum += d
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	res.Latency = latency{
		P50: ms(percentile(all, 0.50)), P90: ms(percentile(all, 0.90)), P99: ms(percentile(all, 0.99)),
		Max: ms(all[len(all)-1]), Mean: ms(sum / time.Duration(len(all))),
	}
	return res
}

// percentile of sorted durations (nearest rank).
func percentile(sorted []time.Duration, q float64) time.Duration {
	i := sort.Search(len(sorted), func(i int) bool { return float64(i+1) >= q*float64(len(sorted)) })
	return sorted[min(i, len(sorted)-1)]
}

func sleepUntil(ctx context.Context, t time.Time) {
	timer := time.NewTimer(time.Until(t))
	defer timer.Stop()
	select {
	case <-ctx.Done():
	case <-timer.C:
	}
}

var scenarios = []scenario{
	{"client_credentials", prepareClientCredentials("")},
	{"client_credentials_jwt_rs256", prepareClientCredentials("RS256")},
	{"client_credentials_jwt_es256", prepareClientCredentials("ES256")},
	{"introspection", prepareIntrospection},
	{"refresh", prepareRefresh},
	{"code", prepareCode(false)},
	{"code_consent", prepareCode(true)},
	{"login", prepareLogin(false)},
	{"login_totp", prepareLogin(true)},
}

func scenarioNames() []string {
	names := make([]string, len(scenarios))
	for i, s := range scenarios {
		names[i] = s.name
	}
	return names
}

func scenarioByName(name string) (scenario, bool) {
	for _, s := range scenarios {
		if s.name == name {
			return s, true
		}
	}
	return scenario{}, false
}
