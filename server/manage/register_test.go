package manage_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/server/credential"
	"github.com/gatehouse/gatehouse/server/manage"
	"github.com/gatehouse/gatehouse/storage"
	"github.com/gatehouse/gatehouse/storage/storagetest"
)

func TestRegister(t *testing.T) {
	backends(t, func(t *testing.T, f fixture) {
		ctx := context.Background()
		reg, err := f.svc.Register(ctx, manage.UserSpec{Username: "ann", Email: "ann@example.com", Password: goodPassword})
		if err != nil || reg.User == nil || reg.Owner != nil {
			t.Fatalf("Register(new address) = %+v, %v", reg, err)
		}
		if reg.User.EmailVerified || reg.User.PasswordHash == "" {
			t.Fatalf("a new registration must be unverified and have a password: %+v", reg.User)
		}

		// An unverified account does not reserve its address.
		again, err := f.svc.Register(ctx, manage.UserSpec{Username: "ann-too", Email: "ANN@example.com", Password: goodPassword})
		if err != nil || again.User == nil {
			t.Fatalf("Register(address of an unverified account) = %+v, %v", again, err)
		}

		if err := f.store.UpdateUser(ctx, reg.User.ID, func(u *storage.User) error { u.EmailVerified = true; return nil }); err != nil {
			t.Fatal(err)
		}
		// A verified one: the account is created all the same (nothing may
		// tell that the address is known), and the owner is named.
		taken, err := f.svc.Register(ctx, manage.UserSpec{Username: "mallory", Email: "ann@example.com", Password: goodPassword})
		if err != nil || taken.User == nil || taken.Owner == nil || taken.Owner.ID != reg.User.ID {
			t.Fatalf("Register(verified address) = %+v, %v; want a new account and the owner", taken, err)
		}
		if err := f.store.UpdateUser(ctx, taken.User.ID, func(u *storage.User) error { u.EmailVerified = true; return nil }); !errors.Is(err, storage.ErrAlreadyExists) {
			t.Fatalf("the second account could verify the owner's address: %v", err)
		}

		for _, tc := range []struct {
			name  string
			spec  manage.UserSpec
			field string
		}{
			{"username taken", manage.UserSpec{Username: "ANN", Email: "new@example.com", Password: goodPassword}, "username"},
			{"no password", manage.UserSpec{Username: "bob", Email: "bob@example.com"}, "password"},
			{"common password", manage.UserSpec{Username: "bob", Email: "bob@example.com", Password: "Password123"}, "password"},
			{"bad email", manage.UserSpec{Username: "bob", Email: "bob", Password: goodPassword}, "email"},
		} {
			_, err := f.svc.Register(ctx, tc.spec)
			var verr *manage.ValidationError
			if !errors.As(err, &verr) || verr.Field != tc.field {
				t.Errorf("%s: Register = %v, want a ValidationError on %s", tc.name, err, tc.field)
			}
		}
	})
}

// The common-password rule applies wherever a password is chosen.
func TestCommonPasswordRefused(t *testing.T) {
	f := newFixture(t, storagetest.SQLiteDSN(t))
	ctx := context.Background()
	_, err := f.svc.CreateUser(ctx, manage.UserSpec{Username: "carl", Email: "carl@example.com", Password: "qwertyuiop"})
	if !isFieldError(err, "password") || !strings.Contains(err.Error(), credential.ErrPasswordCommon.Error()) {
		t.Fatalf("CreateUser(common password) = %v", err)
	}
	if _, err := f.svc.CreateUser(ctx, manage.UserSpec{Username: "carl", Email: "carl@example.com", Password: goodPassword}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.SetPassword(ctx, "carl", "BASKETBALL"); !isFieldError(err, "password") {
		t.Fatalf("SetPassword(common password) = %v", err)
	}
}

func isFieldError(err error, field string) bool {
	var verr *manage.ValidationError
	return errors.As(err, &verr) && verr.Field == field
}
