// Package manage is Gatehouse's provisioning service: creating, listing and
// removing clients and users, and seeding the development demo. The CLI calls
// it today and the admin API will call it later, so every rule about what a
// valid client or user is lives here, with error messages safe to show to
// the person who typed the input.
//
// It talks to storage only through the storage interfaces and hashes secrets
// through server/credential. It must not print, log or return in an error any
// password or client secret; a generated client secret is returned exactly
// once, to the caller of CreateClient.
package manage
