-- Client secret rotation: the previous secret's digest stays valid until
-- rotated_secret_expires_at (clients rotate-secret --grace).

-- +goose Up
ALTER TABLE clients ADD COLUMN rotated_secret_digest BLOB;
ALTER TABLE clients ADD COLUMN rotated_secret_expires_at DATETIME;

-- +goose Down
ALTER TABLE clients DROP COLUMN rotated_secret_expires_at;
ALTER TABLE clients DROP COLUMN rotated_secret_digest;
