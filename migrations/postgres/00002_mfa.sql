-- Second factor: the require-mfa flags of users and clients, authenticator
-- apps (TOTP) pending and active, and single-use recovery codes (the
-- second-factor lockout counts in attempt_counters). TOTP secrets are AEAD
-- ciphertexts bound to (table, column, user id); recovery codes are keyed
-- digests. Deleting a user removes all of it.

-- +goose Up
ALTER TABLE users ADD COLUMN require_mfa BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE clients ADD COLUMN require_mfa BOOLEAN NOT NULL DEFAULT FALSE;

CREATE TABLE totp_enrollments (
    user_id           TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret_ciphertext BYTEA NOT NULL,
    created_at        TIMESTAMPTZ NOT NULL,
    expires_at        TIMESTAMPTZ NOT NULL
);
CREATE INDEX totp_enrollments_expires_at_idx ON totp_enrollments (expires_at);

-- last_step is the last accepted time step: replay protection is the
-- conditional update "SET last_step = ? WHERE user_id = ? AND last_step < ?".
CREATE TABLE totp_credentials (
    user_id           TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret_ciphertext BYTEA NOT NULL,
    last_step         BIGINT NOT NULL,
    created_at        TIMESTAMPTZ NOT NULL
);

CREATE TABLE recovery_codes (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    digest     BYTEA NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    used_at    TIMESTAMPTZ
);
CREATE INDEX recovery_codes_user_id_idx ON recovery_codes (user_id);

-- +goose Down
DROP TABLE recovery_codes;
DROP TABLE totp_credentials;
DROP TABLE totp_enrollments;
ALTER TABLE clients DROP COLUMN require_mfa;
ALTER TABLE users DROP COLUMN require_mfa;
