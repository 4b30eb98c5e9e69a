package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTicks is USER_HZ, the unit of /proc CPU times: 100 on every Linux
// architecture Go supports.
const clockTicks = 100

// serverStats is the server process over the window, read from /proc.
type serverStats struct {
	CPUCores  float64 `json:"cpu_cores"`
	RSSMB     float64 `json:"rss_mb"`
	PeakRSSMB float64 `json:"peak_rss_mb"`
}

// snapshot is the CPU counters at one moment.
type snapshot struct {
	at           time.Time
	server       procStat
	haveServer   bool
	self         procStat
	busy, total  uint64
	machineKnown bool
}

type procStat struct {
	ticks      uint64
	rssKB      uint64
	peakRSSKB  uint64
	haveMemory bool
}

func (h *harness) snapshot() (snapshot, error) {
	s := snapshot{at: time.Now()}
	if h.o.pid > 0 {
		ps, err := readProc(h.o.pid)
		if err != nil {
			return s, fmt.Errorf("read the server's /proc (pid %d): %w", h.o.pid, err)
		}
		s.server, s.haveServer = ps, true
	}
	s.self, _ = readProc(os.Getpid())
	s.busy, s.total, s.machineKnown = readMachine()
	return s, nil
}

// compare turns two snapshots into the server's figures, the load
// generator's own CPU, and the share of the machine's CPU that was busy.
func compare(before, after snapshot) (*serverStats, float64, float64) {
	wall := after.at.Sub(before.at).Seconds()
	if wall <= 0 {
		return nil, 0, 0
	}
	cores := func(a, b procStat) float64 { return float64(b.ticks-a.ticks) / clockTicks / wall }
	var srv *serverStats
	if before.haveServer && after.haveServer {
		srv = &serverStats{
			CPUCores:  cores(before.server, after.server),
			RSSMB:     float64(after.server.rssKB) / 1024,
			PeakRSSMB: float64(after.server.peakRSSKB) / 1024,
		}
	}
	var busy float64
	if before.machineKnown && after.machineKnown && after.total > before.total {
		busy = float64(after.busy-before.busy) / float64(after.total-before.total)
	}
	return srv, cores(before.self, after.self), busy
}

// readProc reads a process's user+system CPU ticks and its resident memory.
func readProc(pid int) (procStat, error) {
	var ps procStat
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ps, err
	}
	// The command name is in parentheses and may hold spaces: fields
	// start after the last ')'. utime and stime are fields 14 and 15.
	rest := stat[bytes.LastIndexByte(stat, ')')+1:]
	fields := strings.Fields(string(rest))
	if len(fields) < 13 {
		return ps, fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	utime, err1 := strconv.ParseUint(fields[11], 10, 64)
	stime, err2 := strconv.ParseUint(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		return ps, fmt.Errorf("/proc/%d/stat: unreadable CPU times", pid)
	}
	ps.ticks = utime + stime
	ps.rssKB, ps.peakRSSKB, ps.haveMemory = readMemory(pid)
	return ps, nil
}

// readMemory reads VmRSS and VmHWM (peak RSS) in kB from /proc/PID/status.
func readMemory(pid int) (rss, peak uint64, ok bool) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, val, found := strings.Cut(sc.Text(), ":")
		if !found {
			continue
		}
		n, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(val), " kB"), 10, 64)
		if err != nil {
			continue
		}
		switch key {
		case "VmRSS":
			rss, ok = n, true
		case "VmHWM":
			peak = n
		}
	}
	return rss, peak, ok
}

// readMachine reads the busy and total CPU ticks of all cores from /proc/stat.
func readMachine() (busy, total uint64, ok bool) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, false
	}
	line, _, _ := strings.Cut(string(data), "\n")
	fields := strings.Fields(line)
	if len(fields) < 5 || fields[0] != "cpu" {
		return 0, 0, false
	}
	for i, f := range fields[1:] {
		n, err := strconv.ParseUint(f, 10, 64)
		if err != nil {
			return 0, 0, false
		}
		total += n
		// idle (4th) and iowait (5th) are not busy.
		if i != 3 && i != 4 {
			busy += n
		}
	}
	return busy, total, true
}
