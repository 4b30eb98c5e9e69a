package leakcheck

import "testing"

func TestLeaks(t *testing.T) {
	var c Capture
	c.Remember("short", "a-long-secret-value", "another-secret-value")
	_, _ = c.Write([]byte(`{"msg":"login","password":"a-long-secret-value"}` + "\n"))
	leaks := c.Leaks()
	if len(leaks) != 1 {
		t.Fatalf("leaks = %v, want exactly the logged secret", leaks)
	}
	var clean Capture
	clean.Remember("a-long-secret-value")
	_, _ = clean.Write([]byte("nothing to see\n"))
	if leaks := clean.Leaks(); len(leaks) != 0 {
		t.Fatalf("false positive: %v", leaks)
	}
}
