package storagetest

import (
	"slices"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/storage"
)

func testSessionClients(t *testing.T, s storage.Store) {
	ctx := ctxT(t)
	seedUser(t, s, "u1", "ann")
	seedUser(t, s, "u2", "ben")
	seedClient(t, s, "a")
	seedClient(t, s, "b")
	exp := time.Now().Add(time.Hour)
	must(t, "record", s.RecordSessionClient(ctx, "sid1", "u1", "a", exp))
	must(t, "record again", s.RecordSessionClient(ctx, "sid1", "u1", "a", exp.Add(time.Hour)))
	must(t, "record b", s.RecordSessionClient(ctx, "sid1", "u1", "b", exp))
	must(t, "record other session", s.RecordSessionClient(ctx, "sid2", "u1", "a", exp))
	must(t, "record other user", s.RecordSessionClient(ctx, "sid3", "u2", "b", exp))

	got, err := s.SessionClients(ctx, "sid1")
	must(t, "session clients", err)
	if !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("clients of sid1 = %v", got)
	}
	byUser, err := s.UserSessionClients(ctx, "u1")
	must(t, "user session clients", err)
	if len(byUser) != 2 || !slices.Equal(byUser["sid1"], []string{"a", "b"}) || !slices.Equal(byUser["sid2"], []string{"a"}) {
		t.Errorf("sessions of u1 = %v", byUser)
	}
	must(t, "forget", s.ForgetSessionClients(ctx, "sid1"))
	if got, _ := s.SessionClients(ctx, "sid1"); len(got) != 0 {
		t.Errorf("after forget: %v", got)
	}
	// Deleting a client or a user removes their records.
	must(t, "delete client", s.DeleteClient(ctx, "a"))
	if got, _ := s.SessionClients(ctx, "sid2"); len(got) != 0 {
		t.Errorf("records of a deleted client: %v", got)
	}
	must(t, "delete user", s.DeleteUser(ctx, "u2"))
	if got, _ := s.SessionClients(ctx, "sid3"); len(got) != 0 {
		t.Errorf("records of a deleted user: %v", got)
	}
	// Expired records are cleaned.
	must(t, "record expiring", s.RecordSessionClient(ctx, "sid4", "u1", "b", time.Now().Add(-time.Minute)))
	must(t, "delete expired", s.DeleteExpired(ctx, time.Now()))
	if got, _ := s.SessionClients(ctx, "sid4"); len(got) != 0 {
		t.Errorf("expired record kept: %v", got)
	}
}
