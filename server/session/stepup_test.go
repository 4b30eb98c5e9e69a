package session

import (
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/server/secret"
	"github.com/gatehouse/gatehouse/storage"
	"github.com/gatehouse/gatehouse/storage/sqlstore"
	"github.com/gatehouse/gatehouse/storage/storagetest"
)

// Two tabs stepping up one session: the second finds the session changed
// (a clear error for a page), never a storage failure.
func TestElevateTwiceReportsSessionChanged(t *testing.T) {
	for _, dsn := range map[string]func(testing.TB) string{"sqlite": storagetest.SQLiteDSN, "postgres": storagetest.PostgresDSN} {
		store, err := sqlstore.Open(t.Context(), dsn(t), sqlstore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = store.Close() })
		if _, err := store.Migrate(t.Context()); err != nil {
			t.Fatal(err)
		}
		keyring, err := secret.NewKeyring([]byte("stepup-test-secret-0123456789abcdef"))
		if err != nil {
			t.Fatal(err)
		}
		m := NewManager(Config{Store: store, Cookies: keyring.AEAD(secret.PurposeCookie), Idle: time.Hour, Absolute: time.Hour, Pending: time.Minute})
		if err := store.CreateUser(t.Context(), &storage.User{ID: "u1", Username: "ann", Email: "ann@example.com"}); err != nil {
			t.Fatal(err)
		}
		bs, err := m.SignIn(t.Context(), httptest.NewRecorder(), httptest.NewRequest("POST", "/login", nil), "u1", []string{"pwd"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.Elevate(t.Context(), httptest.NewRecorder(), bs, []string{"pwd", "otp", "mfa"}); err != nil {
			t.Fatalf("first elevation: %v", err)
		}
		if _, err := m.Elevate(t.Context(), httptest.NewRecorder(), bs, []string{"pwd", "otp", "mfa"}); !errors.Is(err, ErrSessionChanged) {
			t.Fatalf("second elevation of the same session: %v, want ErrSessionChanged", err)
		}
	}
}
