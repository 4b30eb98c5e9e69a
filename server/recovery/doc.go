// Package recovery is the self-service side of accounts: self-registration,
// email verification and password reset by mail. It issues single-use links
// (a random token in the mail, only its keyed digest in storage), sends the
// mails through server/mail's Outbox, limits the mails per address, and
// consumes a link with one conditional update, so that it works exactly once.
//
// It answers alike whether or not an address belongs to an account: callers
// show the same page in every case. It must never log or put into an error
// a token, a link or a password; addresses stay out of logs too (user ids
// name the account). It talks to storage through the storage interfaces and
// leaves the rules of what a valid account is to server/manage.
package recovery
