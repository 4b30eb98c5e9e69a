package mfa

import (
	"testing"
	"time"
)

func TestZZTime(t *testing.T) {
	f := newFixture(t)
	secretB32, _ := f.enroll(t)
	const n = 200
	start := time.Now()
	for i := 0; i < n; i++ {
		f.clock.Advance(period * time.Second)
		if _, err := f.svc.Verify(t.Context(), f.user.ID, code(t, secretB32, f.clock.Now())); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("sqlite: Verify (accepted code) %v per call", time.Since(start)/n)
}
