//go:build !linux

package storagetest

import "testing"

// Cluster is a PostgreSQL cluster owned by one test; only on Linux.
type Cluster struct{}

// NewCluster skips t: throwaway clusters are only started on Linux.
func NewCluster(t testing.TB) *Cluster {
	t.Skip("a PostgreSQL cluster of the test's own needs Linux")
	return nil
}

// DSN is never reached off Linux.
func (c *Cluster) DSN() string { return "" }

// Start is never reached off Linux.
func (c *Cluster) Start(testing.TB) {}

// Stop is never reached off Linux.
func (c *Cluster) Stop(testing.TB) {}
