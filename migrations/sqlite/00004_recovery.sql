-- Self-registration and password recovery. Only verified email addresses
-- are unique: an unverified account does not reserve its address (whoever
-- proves they read it first gets it). mail_tokens records every mail sent
-- about an account, with the keyed digest of its single-use link (NULL for
-- mails without one); the recent rows of an address are its mail rate limit.

-- +goose Up
DROP INDEX users_email_normalized_key;
CREATE UNIQUE INDEX users_verified_email_key ON users (email_normalized)
    WHERE email_verified AND email_normalized <> '';
CREATE INDEX users_email_normalized_idx ON users (email_normalized);

CREATE TABLE mail_tokens (
    id               INTEGER PRIMARY KEY,
    digest           BLOB UNIQUE,
    purpose          TEXT NOT NULL,
    user_id          TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email            TEXT NOT NULL,
    email_normalized TEXT NOT NULL,
    created_at       DATETIME NOT NULL,
    expires_at       DATETIME NOT NULL,
    used_at          DATETIME
);
CREATE INDEX mail_tokens_email_created_idx ON mail_tokens (email_normalized, created_at);
CREATE INDEX mail_tokens_user_id_idx ON mail_tokens (user_id);
CREATE INDEX mail_tokens_expires_at_idx ON mail_tokens (expires_at);

-- +goose Down
DROP TABLE mail_tokens;
DROP INDEX users_email_normalized_idx;
DROP INDEX users_verified_email_key;
-- Fails if unverified accounts share an address: resolve those first.
CREATE UNIQUE INDEX users_email_normalized_key ON users (email_normalized) WHERE email_normalized <> '';
