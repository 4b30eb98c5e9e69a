// Package admin is the admin REST API under /admin/: JSON handlers over the
// manage service (clients, users, roles, consents) and the key manager, with
// the same operations as the CLI, guarded by a bearer token carrying
// gatehouse:admin, and described by an embedded OpenAPI 3 document.
//
// It must not touch storage beyond what manage and keys offer (plus reading
// consents), must not return or log secrets other than a newly issued client
// secret in its own response, and must not decide policy itself.
package admin
