//go:build !linux

package storagetest

import (
	"errors"
	"net/url"
)

// startCluster needs Linux's parent-death signal to guarantee that the
// cluster stops with the test process; elsewhere use TEST_DATABASE_URL.
func startCluster() (*url.URL, error) {
	return nil, errors.New("throwaway clusters are only started on Linux")
}
