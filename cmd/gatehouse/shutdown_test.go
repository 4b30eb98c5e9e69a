package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestServeShutdownFinishesInFlightRequests holds 50 token requests in
// flight (the handler has asked for the body: "100 Continue" was received),
// sends SIGTERM, then completes them: every one must be answered 200, and
// the server must exit 0.
func TestServeShutdownFinishesInFlightRequests(t *testing.T) {
	const inFlight = 50
	c := newCLI(t)
	c.env["GATEHOUSE_ADDR"] = "127.0.0.1:0"
	c.env["GATEHOUSE_ISSUER"] = "https://auth.example.com"
	c.ok(nil, "", "migrate")
	var client struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}
	c.ok(&client, "", "clients", "create", "--name", "Load", "--grant-type", "client_credentials", "--json")

	p := start(t, c.command("", "serve", "--json"))
	var started struct{ Addr string }
	if err := json.Unmarshal([]byte(p.readLine(t, time.Minute)), &started); err != nil {
		t.Fatal(err)
	}

	body := url.Values{"grant_type": {"client_credentials"}}.Encode()
	head := fmt.Sprintf("POST /oauth2/token HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\n"+
		"Content-Length: %d\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n", started.Addr, len(body))
	type pending struct {
		conn net.Conn
		r    *bufio.Reader
	}
	reqs := make([]pending, inFlight)
	for i := range reqs {
		conn, err := net.Dial("tcp", started.Addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		req, _ := http.NewRequest(http.MethodPost, "/", nil)
		req.SetBasicAuth(url.QueryEscape(client.ClientID), url.QueryEscape(client.ClientSecret))
		auth := "Authorization: " + req.Header.Get("Authorization") + "\r\n"
		if _, err := conn.Write([]byte(strings.Replace(head, "\r\n\r\n", "\r\n"+auth+"\r\n", 1))); err != nil {
			t.Fatal(err)
		}
		r := bufio.NewReader(conn)
		// The server sends 100 Continue when the handler reads the body:
		// from here the request is in flight.
		line, err := r.ReadString('\n')
		if err != nil || !strings.Contains(line, "100 Continue") {
			t.Fatalf("request %d: %q %v, want 100 Continue\nstderr:\n%s", i, line, err, p.stderr)
		}
		if _, err := r.ReadString('\n'); err != nil { // the empty line ending the interim response
			t.Fatal(err)
		}
		reqs[i] = pending{conn, r}
	}

	if err := syscall.Kill(p.cmd.Process.Pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	statuses := make([]int, inFlight)
	for i, q := range reqs {
		wg.Go(func() {
			if _, err := q.conn.Write([]byte(body)); err != nil {
				t.Errorf("request %d: send body after SIGTERM: %v", i, err)
				return
			}
			res, err := http.ReadResponse(q.r, nil)
			if err != nil {
				t.Errorf("request %d: no answer after SIGTERM: %v", i, err)
				return
			}
			res.Body.Close()
			statuses[i] = res.StatusCode
		})
	}
	wg.Wait()
	for i, s := range statuses {
		if s != http.StatusOK {
			t.Errorf("request %d answered %d, want 200", i, s)
		}
	}
	select {
	case <-p.done:
	case <-time.After(time.Minute):
		t.Fatalf("the server did not exit after SIGTERM\nstderr:\n%s", p.stderr)
	}
	if p.exitCode != 0 {
		t.Fatalf("exit code %d after SIGTERM, want 0\nstderr:\n%s", p.exitCode, p.stderr)
	}
	if !strings.Contains(p.stderr.String(), "shutting down") {
		t.Errorf("no shutdown in the log:\n%s", p.stderr)
	}
	if _, err := net.Dial("tcp", started.Addr); err == nil {
		t.Error("the address still accepts connections after exit")
	}
}
