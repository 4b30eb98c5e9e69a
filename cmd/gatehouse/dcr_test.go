package main

import (
	"strings"
	"testing"
)

func TestServeRefusesBadDynamicRegistration(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string
	}{
		{"on without token", map[string]string{"GATEHOUSE_DYNAMIC_REGISTRATION": "on"}, "needs GATEHOUSE_REGISTRATION_TOKEN"},
		{"on with blank tokens", map[string]string{"GATEHOUSE_DYNAMIC_REGISTRATION": "on", "GATEHOUSE_REGISTRATION_TOKEN": " , "}, "needs GATEHOUSE_REGISTRATION_TOKEN"},
		{"typo", map[string]string{"GATEHOUSE_DYNAMIC_REGISTRATION": "yes"}, "want on or off"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newCLI(t)
			c.env["GATEHOUSE_ADDR"] = "127.0.0.1:0"
			c.env["GATEHOUSE_ISSUER"] = "https://auth.example.com"
			for k, v := range tc.env {
				c.env[k] = v
			}
			if stderr := c.fails("", "serve"); !strings.Contains(stderr, tc.wantErr) {
				t.Fatalf("stderr %q, want it to contain %q", stderr, tc.wantErr)
			}
		})
	}
}
