package manage_test

import (
	"context"
	"testing"

	"github.com/gatehouse/gatehouse/server/manage"
)

func TestSeedDemoIsIdempotentAndRotates(t *testing.T) {
	backends(t, func(t *testing.T, f fixture) {
		ctx := context.Background()
		first, err := f.svc.SeedDemo(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if first.ClientID != manage.DemoClientID || first.Username != manage.DemoUsername || first.RedirectURI != manage.DemoRedirectURI {
			t.Fatalf("demo = %+v", first)
		}
		second, err := f.svc.SeedDemo(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if second.ClientSecret == first.ClientSecret || second.Password == first.Password {
			t.Fatal("a second seed must rotate the secret and the password")
		}

		c, err := f.svc.GetClient(ctx, manage.DemoClientID)
		if err != nil {
			t.Fatal(err)
		}
		if c.Public || c.TokenEndpointAuthMethod != "client_secret_basic" || len(c.RedirectURIs) != 1 || c.RedirectURIs[0] != manage.DemoRedirectURI {
			t.Fatalf("demo client = %+v", c)
		}
		if err := f.hasher.Compare(ctx, c.SecretDigest, []byte(second.ClientSecret)); err != nil {
			t.Fatal("the current demo secret does not verify")
		}
		if err := f.hasher.Compare(ctx, c.SecretDigest, []byte(first.ClientSecret)); err == nil {
			t.Fatal("the previous demo secret still verifies")
		}
		u, err := f.svc.GetUser(ctx, manage.DemoUsername)
		if err != nil {
			t.Fatal(err)
		}
		if ok, _, _ := f.passwords.Verify(ctx, u.PasswordHash, second.Password); !ok {
			t.Fatal("the current demo password does not verify")
		}
		if ok, _, _ := f.passwords.Verify(ctx, u.PasswordHash, first.Password); ok {
			t.Fatal("the previous demo password still verifies")
		}
		clients, _ := f.svc.ListClients(ctx)
		users, _ := f.svc.ListUsers(ctx)
		if len(clients) != 1 || len(users) != 1 {
			t.Fatalf("after two seeds: %d clients, %d users; want 1 and 1", len(clients), len(users))
		}
	})
}
