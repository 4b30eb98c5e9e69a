-- Client secret rotation: the previous secret's digest stays valid until
-- rotated_secret_expires_at (clients rotate-secret --grace).

-- +goose Up
ALTER TABLE clients ADD COLUMN rotated_secret_digest BYTEA;
ALTER TABLE clients ADD COLUMN rotated_secret_expires_at TIMESTAMPTZ;

-- +goose Down
ALTER TABLE clients DROP COLUMN rotated_secret_expires_at;
ALTER TABLE clients DROP COLUMN rotated_secret_digest;
