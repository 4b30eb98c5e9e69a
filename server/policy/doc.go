// Package policy holds Gatehouse's authorization decisions as pure
// functions: which requested scopes a user or client may be granted, which
// roles a token names, and whether a second factor is required. It does no
// I/O; callers load the records and act on the answers.
package policy
