package main

import (
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os/exec"
	"slices"
	"syscall"
	"time"
)

// startupRun is one start of the server: time until /health/ready answers
// 200, and resident memory once it has been idle a while.
type startupRun struct {
	ReadyMS   float64 `json:"ready_ms"`
	IdleRSSMB float64 `json:"idle_rss_mb"`
}

type startupReport struct {
	StartedAt     time.Time         `json:"started_at"`
	Command       []string          `json:"command"`
	Meta          map[string]string `json:"meta"`
	Runs          []startupRun      `json:"runs"`
	MedianReadyMS float64           `json:"median_ready_ms"`
	MedianIdleMB  float64           `json:"median_idle_rss_mb"`
}

// runStartup starts the server command (everything after --) several
// times, and measures start-up to ready and idle RSS of each start.
func runStartup(args []string) error {
	fs := flag.NewFlagSet("gatehouse-load startup", flag.ContinueOnError)
	ready := fs.String("ready", "http://127.0.0.1:8080/health/ready", "readiness URL of the started server (loopback only)")
	runs := fs.Int("runs", 5, "starts to measure")
	idle := fs.Duration("idle", 5*time.Second, "idle time before RSS is read")
	out := fs.String("out", "", "write the raw results as JSON to this file")
	meta := metaFlag{}
	fs.Var(meta, "meta", "key=value recorded in the JSON results (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	command := fs.Args()
	if len(command) == 0 {
		return errors.New("usage: gatehouse-load startup [flags] -- /path/to/gatehouse serve ...")
	}
	if err := checkLoopback(*ready); err != nil {
		return err
	}
	rep := startupReport{StartedAt: time.Now().UTC(), Command: command, Meta: meta}
	for i := range *runs {
		r, err := startOnce(command, *ready, *idle)
		if err != nil {
			return fmt.Errorf("start %d: %w", i+1, err)
		}
		fmt.Printf("start %d: ready after %.1f ms, idle RSS %.1f MB\n", i+1, r.ReadyMS, r.IdleRSSMB)
		rep.Runs = append(rep.Runs, r)
	}
	rep.MedianReadyMS = median(rep.Runs, func(r startupRun) float64 { return r.ReadyMS })
	rep.MedianIdleMB = median(rep.Runs, func(r startupRun) float64 { return r.IdleRSSMB })
	fmt.Printf("median: ready after %.1f ms, idle RSS %.1f MB\n", rep.MedianReadyMS, rep.MedianIdleMB)
	return writeReport(*out, rep)
}

func startOnce(command []string, ready string, idle time.Duration) (startupRun, error) {
	var r startupRun
	cmd := exec.Command(command[0], command[1:]...)
	cmd.Stdout, cmd.Stderr = nil, nil // discarded: the log stays on, its output is not the point here
	client := &http.Client{Timeout: 200 * time.Millisecond}
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return r, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	}()
	for {
		select {
		case err := <-exited:
			exited <- err
			return r, fmt.Errorf("the server exited before it was ready: %v", err)
		default:
		}
		if time.Since(t0) > 30*time.Second {
			return r, errors.New("not ready after 30s")
		}
		resp, err := client.Get(ready)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	r.ReadyMS = float64(time.Since(t0).Microseconds()) / 1000
	time.Sleep(idle)
	rss, _, ok := readMemory(cmd.Process.Pid)
	if !ok {
		return r, errors.New("cannot read the server's RSS")
	}
	r.IdleRSSMB = float64(rss) / 1024
	return r, nil
}

func median(runs []startupRun, f func(startupRun) float64) float64 {
	v := make([]float64, len(runs))
	for i, r := range runs {
		v[i] = f(r)
	}
	slices.Sort(v)
	if len(v) == 0 {
		return 0
	}
	return v[len(v)/2]
}
