//go:build linux

package storagetest

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const clusterPrefix = "gatehouse-pgtest-"

// startCluster creates and starts a throwaway PostgreSQL cluster for this
// process and returns the DSN of its maintenance database.
func startCluster() (*url.URL, error) {
	bin, err := findPostgresBin()
	if err != nil {
		return nil, err
	}
	cred, err := clusterCredential()
	if err != nil {
		return nil, err
	}
	root := clusterRoot()
	removeStaleClusters(root)
	if root != os.TempDir() {
		removeStaleClusters(os.TempDir()) // left by a run without /dev/shm
	}

	dir, err := os.MkdirTemp(root, clusterPrefix)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "owner.pid"), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return nil, err
	}
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			return nil, err
		}
	}
	data := filepath.Join(dir, "data")

	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres",
		"-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync")
	initdb.Dir = dir
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("initdb: %w: %s", err, lastLines(out, 5))
	}

	logPath := filepath.Join(dir, "postgres.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close() // the child keeps its own descriptor
	cmd := exec.Command(filepath.Join(bin, "postgres"), "-D", data, "-k", dir,
		"-c", "listen_addresses=", "-c", "fsync=off", "-c", "synchronous_commit=off",
		"-c", "full_page_writes=off", "-c", "max_connections=300")
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// The kernel sends Pdeathsig when the thread that forked the child
	// exits, so the fork happens on a thread locked for the rest of the
	// process's life (the goroutine below never returns while the server
	// runs). SIGINT is PostgreSQL's fast shutdown.
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGINT}
	started, exited := make(chan error, 1), make(chan struct{})
	go func() {
		runtime.LockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		_ = cmd.Wait()
		close(exited)
	}()
	if err := <-started; err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	removeWhenGone(dir, os.Getpid(), cmd.Process.Pid)

	socket := filepath.Join(dir, ".s.PGSQL.5432")
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := os.Stat(socket); err == nil {
			break
		}
		select {
		case <-exited:
			out, _ := os.ReadFile(logPath)
			return nil, fmt.Errorf("postgres exited at start: %s", lastLines(out, 5))
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return nil, errors.New("postgres did not open its socket within 30s")
		}
	}
	return &url.URL{
		Scheme:   "postgres",
		User:     url.User("postgres"),
		Path:     "/postgres",
		RawQuery: url.Values{"host": {dir}, "sslmode": {"disable"}}.Encode(),
	}, nil
}

// removeWhenGone starts a detached watchdog that deletes dir (in /dev/shm it
// holds memory) once both the test process and the postmaster have exited.
// If the watchdog cannot run, removeStaleClusters of a later run cleans up.
func removeWhenGone(dir string, owner, postmaster int) {
	watchdog := exec.Command("/bin/sh", "-c",
		`while kill -0 "$1" 2>/dev/null || kill -0 "$2" 2>/dev/null; do sleep 0.5; done; rm -rf "$3"`,
		"watchdog", strconv.Itoa(owner), strconv.Itoa(postmaster), dir)
	// Its own session, and no inherited stdout/stderr: go test waits for
	// the test binary's output pipes to close.
	watchdog.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if watchdog.Start() == nil {
		go func() { _ = watchdog.Wait() }()
	}
}

// findPostgresBin returns a directory holding both initdb and postgres:
// initdb's directory on PATH (symlinks resolved), else the newest
// /usr/lib/postgresql/*/bin.
func findPostgresBin() (string, error) {
	var dirs []string
	if p, err := exec.LookPath("initdb"); err == nil {
		if resolved, err := filepath.EvalSymlinks(p); err == nil {
			dirs = append(dirs, filepath.Dir(resolved))
		}
		dirs = append(dirs, filepath.Dir(p))
	}
	versioned, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	major := func(dir string) int {
		n, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
		return n
	}
	slices.SortFunc(versioned, func(a, b string) int { return major(b) - major(a) })
	dirs = append(dirs, versioned...)
	for _, d := range dirs {
		if isFile(filepath.Join(d, "initdb")) && isFile(filepath.Join(d, "postgres")) {
			return d, nil
		}
	}
	return "", errors.New("no initdb and postgres binaries on PATH or in /usr/lib/postgresql/*/bin")
}

// clusterCredential returns the postgres user's credential when running as
// root (initdb and postgres refuse root), else nil.
func clusterCredential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root and no postgres user to run the cluster as: %w", err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("postgres user has a non-numeric uid or gid")
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// clusterRoot is where clusters live: /dev/shm when it is a writable
// directory, because CREATE DATABASE takes ~20-50 ms there against ~900 ms on
// this machine's disk (even with fsync off), else os.TempDir().
func clusterRoot() string {
	const shm = "/dev/shm"
	if info, err := os.Stat(shm); err == nil && info.IsDir() && syscall.Access(shm, 2 /* W_OK */) == nil {
		return shm
	}
	return os.TempDir()
}

// removeStaleClusters deletes the cluster directories of test processes that
// are gone, stopping a postmaster that outlived its owner.
func removeStaleClusters(root string) {
	dirs, _ := filepath.Glob(filepath.Join(root, clusterPrefix+"*"))
	for _, dir := range dirs {
		owner := readPid(filepath.Join(dir, "owner.pid"))
		if owner == 0 {
			// Possibly a process that is creating it right now.
			if info, err := os.Stat(dir); err != nil || time.Since(info.ModTime()) < time.Minute {
				continue
			}
		} else if alive(owner) {
			continue
		}
		if pm := readPid(filepath.Join(dir, "data", "postmaster.pid")); alive(pm) {
			_ = syscall.Kill(pm, syscall.SIGQUIT)
		}
		_ = os.RemoveAll(dir)
	}
}

// readPid reads the number on the first line of a pid file, 0 if none.
func readPid(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, _ := strconv.Atoi(strings.TrimSpace(first))
	return pid
}

func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

func isFile(path string) bool {
	info, err := os.Stat(path)
	return err == nil && info.Mode().IsRegular()
}

func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
