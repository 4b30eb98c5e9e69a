// Package leakcheck supports the tests that prove no secret reaches a log:
// a Capture is the writer every logger of a test run writes to, and the
// place where tests remember every password, secret, code and token they
// handled. At the end of the run, Leaks lists the remembered values that
// appear in the captured logs. It is used only by tests.
package leakcheck

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
)

// minLength is the shortest value worth remembering: shorter ones (test
// constants such as "x") would match unrelated log text.
const minLength = 8

// Capture collects log output and remembered secrets; the zero value is ready.
type Capture struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	secrets sync.Map
}

// Write appends log output.
func (c *Capture) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.Write(p)
}

// String returns everything logged so far.
func (c *Capture) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.String()
}

// Remember records values that must never appear in a log.
func (c *Capture) Remember(values ...string) {
	for _, v := range values {
		if len(v) >= minLength {
			c.secrets.Store(v, true)
		}
	}
}

// Leaks describes every remembered value found in the logs (without
// repeating the value itself).
func (c *Capture) Leaks() []string {
	logs := c.String()
	var out []string
	c.secrets.Range(func(k, _ any) bool {
		if v := k.(string); strings.Contains(logs, v) {
			out = append(out, fmt.Sprintf("a secret, password, code or token (%d chars, starts %q) appears in the logs", len(v), v[:4]))
		}
		return true
	})
	return out
}
