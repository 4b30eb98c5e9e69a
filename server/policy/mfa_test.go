package policy

import (
	"slices"
	"testing"
	"time"
)

func TestMFARequired(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   MFA
		want bool
	}{
		{"nothing asks", MFA{}, false},
		{"password acr asked", MFA{ACRValues: []string{ACRPassword}}, false},
		{"enrolled user", MFA{Enrolled: true}, true},
		{"user flag", MFA{UserRequires: true}, true},
		{"client flag", MFA{ClientRequires: true}, true},
		{"role flag", MFA{RoleRequires: true}, true},
		{"acr_values", MFA{ACRValues: []string{ACRPassword, ACRMFA}}, true},
	} {
		if got := tc.in.Required(); got != tc.want {
			t.Errorf("%s: Required() = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestAMRAndACR(t *testing.T) {
	pwd := []string{AMRPassword}
	otp := WithSecondFactor(pwd, false)
	if !slices.Equal(otp, []string{"pwd", "otp", "mfa"}) || !slices.Equal(pwd, []string{"pwd"}) {
		t.Fatalf("WithSecondFactor(otp) = %v (input now %v)", otp, pwd)
	}
	if rc := WithSecondFactor(pwd, true); !slices.Equal(rc, []string{"pwd", "mfa"}) {
		t.Fatalf("WithSecondFactor(recovery code) = %v", rc)
	}
	if again := WithSecondFactor(otp, false); !slices.Equal(again, otp) {
		t.Fatalf("a second step-up duplicates methods: %v", again)
	}
	if ACR(pwd) != ACRPassword || ACR(otp) != ACRMFA || HasSecondFactor(pwd) || !HasSecondFactor(otp) {
		t.Fatal("ACR/HasSecondFactor disagree with the methods")
	}
}

func TestPasswordIsRecent(t *testing.T) {
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		at   time.Time
		want bool
	}{
		{time.Time{}, false},
		{now, true},
		{now.Add(-10 * time.Minute), true},
		{now.Add(-10*time.Minute - time.Second), false},
	} {
		if got := PasswordIsRecent(tc.at, now); got != tc.want {
			t.Errorf("PasswordIsRecent(%v) = %v, want %v", tc.at, got, tc.want)
		}
	}
}
