-- Dynamic client registration (RFC 7591/7592): the keyed digest of the
-- registration access token of a dynamically registered client.

-- +goose Up
ALTER TABLE clients ADD COLUMN registration_token_digest BLOB;

-- +goose Down
ALTER TABLE clients DROP COLUMN registration_token_digest;
