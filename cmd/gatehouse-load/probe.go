package main

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"time"
)

// The machines of one kind, and one machine from hour to hour, compute at
// speeds that differ by a quarter or more, which moves every figure. After
// each window, with the load stopped, the load generator times a fixed
// piece of pure computation, RSA-2048 signatures (the server's costliest
// step outside password hashing), on every core at once: two vCPUs can
// slow each other down when both are busy (as under load) but not when one
// works alone, and that is where this machine kind's runs differed. So
// windows measured at different times can be told apart by the machine's
// speed, not only by the code.

const probeSignatures = 9

var probeKey = sync.OnceValues(func() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, 2048) })

// cpuProbe returns the median time of one RSA-2048 PKCS #1 v1.5 signature
// while every core signs, in milliseconds.
func cpuProbe() (float64, error) {
	key, err := probeKey()
	if err != nil {
		return 0, fmt.Errorf("probe key: %w", err)
	}
	digest := sha256.Sum256([]byte("gatehouse-load cpu probe"))
	cores := runtime.NumCPU()
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(cores))
	times := make([]time.Duration, cores*probeSignatures)
	errs := make([]error, cores)
	var wg sync.WaitGroup
	for c := range cores {
		wg.Go(func() {
			for i := range probeSignatures {
				start := time.Now()
				if _, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, digest[:]); err != nil {
					errs[c] = fmt.Errorf("probe signature: %w", err)
					return
				}
				times[c*probeSignatures+i] = time.Since(start)
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return 0, err
	}
	slices.Sort(times)
	return float64(times[len(times)/2]) / float64(time.Millisecond), nil
}
