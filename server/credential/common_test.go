package credential

import (
	"strings"
	"testing"
)

func TestCommonPasswordList(t *testing.T) {
	lines := strings.Split(strings.TrimSuffix(commonPasswordList, "\n"), "\n")
	if len(lines) != 10000 {
		t.Fatalf("the list has %d entries, want 10000", len(lines))
	}
	seen := map[string]bool{}
	for i, p := range lines {
		switch {
		case len(p) < minPasswordLength || len(p) > maxPasswordLength:
			t.Errorf("line %d: %d bytes, outside the length policy", i+1, len(p))
		case p != strings.ToLower(p):
			t.Errorf("line %d is not lower case", i+1)
		case seen[p]:
			t.Errorf("line %d is a duplicate", i+1)
		}
		seen[p] = true
	}
}

func TestIsCommonPassword(t *testing.T) {
	tests := []struct {
		pw   string
		want bool
	}{
		{"qwertyuiop", true},
		{"QWERTYuiop", true},
		{"password123", true},
		{"basketball", true},
		{"1q2w3e4r5t", true},
		{"qwertyuiop ", false},
		{"vF7#q2LmZx", false},
		{"correct horse battery staple", false},
	}
	for _, tt := range tests {
		if got := IsCommonPassword(tt.pw); got != tt.want {
			t.Errorf("IsCommonPassword(%q) = %v, want %v", tt.pw, got, tt.want)
		}
	}
}
