-- Initial schema: clients, users, browser sessions, pending authorization
-- requests, consents, signing keys, the private_key_jwt jti replay cache and
-- one table per fosite record kind. Lists are JSON arrays in TEXT columns;
-- times are UTC (timestamptz). Keys derived from codes and tokens
-- (signature, jti_digest) are SHA-256 digests computed by the store.

-- +goose Up
CREATE TABLE clients (
    id                              TEXT PRIMARY KEY,
    secret_digest                   BYTEA,
    name                            TEXT NOT NULL DEFAULT '',
    redirect_uris                   TEXT NOT NULL DEFAULT '[]',
    post_logout_redirect_uris       TEXT NOT NULL DEFAULT '[]',
    grant_types                     TEXT NOT NULL DEFAULT '[]',
    response_types                  TEXT NOT NULL DEFAULT '[]',
    scopes                          TEXT NOT NULL DEFAULT '[]',
    audience                        TEXT NOT NULL DEFAULT '[]',
    is_public                       BOOLEAN NOT NULL DEFAULT FALSE,
    token_endpoint_auth_method      TEXT NOT NULL DEFAULT '',
    jwks_uri                        TEXT NOT NULL DEFAULT '',
    jwks                            BYTEA,
    token_endpoint_auth_signing_alg TEXT NOT NULL DEFAULT '',
    skip_consent                    BOOLEAN NOT NULL DEFAULT FALSE,
    id_token_signing_alg            TEXT NOT NULL DEFAULT '',
    access_token_format             TEXT NOT NULL DEFAULT '',
    created_at                      TIMESTAMPTZ NOT NULL,
    updated_at                      TIMESTAMPTZ NOT NULL
);

CREATE TABLE users (
    id                  TEXT PRIMARY KEY,
    username            TEXT NOT NULL,
    username_normalized TEXT NOT NULL,
    email               TEXT NOT NULL DEFAULT '',
    email_normalized    TEXT NOT NULL DEFAULT '',
    email_verified      BOOLEAN NOT NULL DEFAULT FALSE,
    display_name        TEXT NOT NULL DEFAULT '',
    password_hash       TEXT NOT NULL DEFAULT '',
    disabled            BOOLEAN NOT NULL DEFAULT FALSE,
    created_at          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX users_username_normalized_key ON users (username_normalized);
CREATE UNIQUE INDEX users_email_normalized_key ON users (email_normalized) WHERE email_normalized <> '';

CREATE TABLE browser_sessions (
    id           TEXT PRIMARY KEY,
    sid          TEXT NOT NULL,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    auth_time    TIMESTAMPTZ NOT NULL,
    amr          TEXT NOT NULL DEFAULT '[]',
    created_at   TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX browser_sessions_sid_key ON browser_sessions (sid);
CREATE INDEX browser_sessions_user_id_idx ON browser_sessions (user_id);
CREATE INDEX browser_sessions_expires_at_idx ON browser_sessions (expires_at);

CREATE TABLE auth_requests (
    id             TEXT PRIMARY KEY,
    binding_digest TEXT NOT NULL,
    client_id      TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    query          TEXT NOT NULL,
    user_id        TEXT REFERENCES users (id) ON DELETE CASCADE,
    auth_time      TIMESTAMPTZ,
    amr            TEXT NOT NULL DEFAULT '[]',
    consent_given  BOOLEAN NOT NULL DEFAULT FALSE,
    created_at     TIMESTAMPTZ NOT NULL,
    expires_at     TIMESTAMPTZ NOT NULL
);
CREATE INDEX auth_requests_client_id_idx ON auth_requests (client_id);
CREATE INDEX auth_requests_user_id_idx ON auth_requests (user_id);
CREATE INDEX auth_requests_expires_at_idx ON auth_requests (expires_at);

CREATE TABLE consents (
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_id  TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    scopes     TEXT NOT NULL DEFAULT '[]',
    granted_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ,
    PRIMARY KEY (user_id, client_id)
);
CREATE INDEX consents_client_id_idx ON consents (client_id);
CREATE INDEX consents_expires_at_idx ON consents (expires_at);

CREATE TABLE signing_keys (
    kid                    TEXT PRIMARY KEY,
    alg                    TEXT NOT NULL,
    public_jwk             BYTEA NOT NULL,
    private_key_ciphertext BYTEA NOT NULL,
    created_at             TIMESTAMPTZ NOT NULL,
    activate_at            TIMESTAMPTZ NOT NULL,
    retired_at             TIMESTAMPTZ
);

CREATE TABLE client_assertion_jtis (
    jti_digest TEXT PRIMARY KEY,
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX client_assertion_jtis_expires_at_idx ON client_assertion_jtis (expires_at);

CREATE TABLE oauth2_authorize_codes (
    signature        TEXT PRIMARY KEY,
    request_id       TEXT NOT NULL,
    requested_at     TIMESTAMPTZ NOT NULL,
    client_id        TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    subject          TEXT NOT NULL DEFAULT '',
    scopes           TEXT NOT NULL DEFAULT '[]',
    granted_scopes   TEXT NOT NULL DEFAULT '[]',
    audience         TEXT NOT NULL DEFAULT '[]',
    granted_audience TEXT NOT NULL DEFAULT '[]',
    form             TEXT NOT NULL DEFAULT '',
    session_data     BYTEA NOT NULL,
    active           BOOLEAN NOT NULL DEFAULT TRUE,
    expires_at       TIMESTAMPTZ NOT NULL
);
CREATE INDEX oauth2_authorize_codes_request_id_idx ON oauth2_authorize_codes (request_id);
CREATE INDEX oauth2_authorize_codes_client_id_idx ON oauth2_authorize_codes (client_id);
CREATE INDEX oauth2_authorize_codes_subject_idx ON oauth2_authorize_codes (subject);
CREATE INDEX oauth2_authorize_codes_expires_at_idx ON oauth2_authorize_codes (expires_at);

CREATE TABLE oauth2_access_tokens (
    signature        TEXT PRIMARY KEY,
    request_id       TEXT NOT NULL,
    requested_at     TIMESTAMPTZ NOT NULL,
    client_id        TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    subject          TEXT NOT NULL DEFAULT '',
    scopes           TEXT NOT NULL DEFAULT '[]',
    granted_scopes   TEXT NOT NULL DEFAULT '[]',
    audience         TEXT NOT NULL DEFAULT '[]',
    granted_audience TEXT NOT NULL DEFAULT '[]',
    form             TEXT NOT NULL DEFAULT '',
    session_data     BYTEA NOT NULL,
    active           BOOLEAN NOT NULL DEFAULT TRUE,
    expires_at       TIMESTAMPTZ NOT NULL
);
CREATE INDEX oauth2_access_tokens_request_id_idx ON oauth2_access_tokens (request_id);
CREATE INDEX oauth2_access_tokens_client_id_idx ON oauth2_access_tokens (client_id);
CREATE INDEX oauth2_access_tokens_subject_idx ON oauth2_access_tokens (subject);
CREATE INDEX oauth2_access_tokens_expires_at_idx ON oauth2_access_tokens (expires_at);

-- expires_at is NULL for a refresh token without a lifetime.
CREATE TABLE oauth2_refresh_tokens (
    signature        TEXT PRIMARY KEY,
    request_id       TEXT NOT NULL,
    requested_at     TIMESTAMPTZ NOT NULL,
    client_id        TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    subject          TEXT NOT NULL DEFAULT '',
    scopes           TEXT NOT NULL DEFAULT '[]',
    granted_scopes   TEXT NOT NULL DEFAULT '[]',
    audience         TEXT NOT NULL DEFAULT '[]',
    granted_audience TEXT NOT NULL DEFAULT '[]',
    form             TEXT NOT NULL DEFAULT '',
    session_data     BYTEA NOT NULL,
    active           BOOLEAN NOT NULL DEFAULT TRUE,
    expires_at       TIMESTAMPTZ,
    access_signature TEXT NOT NULL DEFAULT '',
    -- rotated_at is when the token was used; within the refresh grace
    -- period it may be used again (off by default).
    rotated_at       TIMESTAMPTZ
);
CREATE INDEX oauth2_refresh_tokens_request_id_idx ON oauth2_refresh_tokens (request_id);
CREATE INDEX oauth2_refresh_tokens_client_id_idx ON oauth2_refresh_tokens (client_id);
CREATE INDEX oauth2_refresh_tokens_subject_idx ON oauth2_refresh_tokens (subject);
CREATE INDEX oauth2_refresh_tokens_expires_at_idx ON oauth2_refresh_tokens (expires_at);

CREATE TABLE oauth2_oidc_sessions (
    signature        TEXT PRIMARY KEY,
    request_id       TEXT NOT NULL,
    requested_at     TIMESTAMPTZ NOT NULL,
    client_id        TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    subject          TEXT NOT NULL DEFAULT '',
    scopes           TEXT NOT NULL DEFAULT '[]',
    granted_scopes   TEXT NOT NULL DEFAULT '[]',
    audience         TEXT NOT NULL DEFAULT '[]',
    granted_audience TEXT NOT NULL DEFAULT '[]',
    form             TEXT NOT NULL DEFAULT '',
    session_data     BYTEA NOT NULL,
    active           BOOLEAN NOT NULL DEFAULT TRUE,
    expires_at       TIMESTAMPTZ NOT NULL
);
CREATE INDEX oauth2_oidc_sessions_request_id_idx ON oauth2_oidc_sessions (request_id);
CREATE INDEX oauth2_oidc_sessions_client_id_idx ON oauth2_oidc_sessions (client_id);
CREATE INDEX oauth2_oidc_sessions_subject_idx ON oauth2_oidc_sessions (subject);
CREATE INDEX oauth2_oidc_sessions_expires_at_idx ON oauth2_oidc_sessions (expires_at);

CREATE TABLE oauth2_pkce_requests (
    signature        TEXT PRIMARY KEY,
    request_id       TEXT NOT NULL,
    requested_at     TIMESTAMPTZ NOT NULL,
    client_id        TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    subject          TEXT NOT NULL DEFAULT '',
    scopes           TEXT NOT NULL DEFAULT '[]',
    granted_scopes   TEXT NOT NULL DEFAULT '[]',
    audience         TEXT NOT NULL DEFAULT '[]',
    granted_audience TEXT NOT NULL DEFAULT '[]',
    form             TEXT NOT NULL DEFAULT '',
    session_data     BYTEA NOT NULL,
    active           BOOLEAN NOT NULL DEFAULT TRUE,
    expires_at       TIMESTAMPTZ NOT NULL
);
CREATE INDEX oauth2_pkce_requests_request_id_idx ON oauth2_pkce_requests (request_id);
CREATE INDEX oauth2_pkce_requests_client_id_idx ON oauth2_pkce_requests (client_id);
CREATE INDEX oauth2_pkce_requests_subject_idx ON oauth2_pkce_requests (subject);
CREATE INDEX oauth2_pkce_requests_expires_at_idx ON oauth2_pkce_requests (expires_at);

-- +goose Down
DROP TABLE oauth2_pkce_requests;
DROP TABLE oauth2_oidc_sessions;
DROP TABLE oauth2_refresh_tokens;
DROP TABLE oauth2_access_tokens;
DROP TABLE oauth2_authorize_codes;
DROP TABLE client_assertion_jtis;
DROP TABLE signing_keys;
DROP TABLE consents;
DROP TABLE auth_requests;
DROP TABLE browser_sessions;
DROP TABLE users;
DROP TABLE clients;
