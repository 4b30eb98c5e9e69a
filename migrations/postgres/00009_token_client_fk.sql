-- The token tables no longer reference clients by foreign key. On
-- PostgreSQL a foreign key check takes a FOR KEY SHARE lock on the client's
-- row for every token inserted; a busy client's concurrent token requests
-- then share that lock through multixacts, a measured cost on the token
-- endpoint (docs/PERFORMANCE.md). Deleting a client deletes its token rows
-- explicitly instead, and a token row whose client is gone is never read:
-- every read joins the client.

-- +goose Up
ALTER TABLE oauth2_authorize_codes DROP CONSTRAINT oauth2_authorize_codes_client_id_fkey;
ALTER TABLE oauth2_access_tokens DROP CONSTRAINT oauth2_access_tokens_client_id_fkey;
ALTER TABLE oauth2_refresh_tokens DROP CONSTRAINT oauth2_refresh_tokens_client_id_fkey;
ALTER TABLE oauth2_oidc_sessions DROP CONSTRAINT oauth2_oidc_sessions_client_id_fkey;
ALTER TABLE oauth2_pkce_requests DROP CONSTRAINT oauth2_pkce_requests_client_id_fkey;

-- +goose Down
DELETE FROM oauth2_authorize_codes WHERE client_id NOT IN (SELECT id FROM clients);
DELETE FROM oauth2_access_tokens WHERE client_id NOT IN (SELECT id FROM clients);
DELETE FROM oauth2_refresh_tokens WHERE client_id NOT IN (SELECT id FROM clients);
DELETE FROM oauth2_oidc_sessions WHERE client_id NOT IN (SELECT id FROM clients);
DELETE FROM oauth2_pkce_requests WHERE client_id NOT IN (SELECT id FROM clients);
ALTER TABLE oauth2_authorize_codes ADD CONSTRAINT oauth2_authorize_codes_client_id_fkey FOREIGN KEY (client_id) REFERENCES clients (id) ON DELETE CASCADE;
ALTER TABLE oauth2_access_tokens ADD CONSTRAINT oauth2_access_tokens_client_id_fkey FOREIGN KEY (client_id) REFERENCES clients (id) ON DELETE CASCADE;
ALTER TABLE oauth2_refresh_tokens ADD CONSTRAINT oauth2_refresh_tokens_client_id_fkey FOREIGN KEY (client_id) REFERENCES clients (id) ON DELETE CASCADE;
ALTER TABLE oauth2_oidc_sessions ADD CONSTRAINT oauth2_oidc_sessions_client_id_fkey FOREIGN KEY (client_id) REFERENCES clients (id) ON DELETE CASCADE;
ALTER TABLE oauth2_pkce_requests ADD CONSTRAINT oauth2_pkce_requests_client_id_fkey FOREIGN KEY (client_id) REFERENCES clients (id) ON DELETE CASCADE;
