-- Sign-out: clients receive back-channel logout tokens at a registered URI,
-- and every browser session remembers which clients it signed in to, so
-- that ending it can tell them (OpenID Connect Back-Channel Logout 1.0).

-- +goose Up
ALTER TABLE clients ADD COLUMN backchannel_logout_uri TEXT NOT NULL DEFAULT '';

CREATE TABLE session_clients (
    sid        TEXT NOT NULL,
    client_id  TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at DATETIME NOT NULL,
    expires_at DATETIME NOT NULL,
    PRIMARY KEY (sid, client_id)
);
CREATE INDEX session_clients_user_id_idx ON session_clients (user_id);
CREATE INDEX session_clients_expires_at_idx ON session_clients (expires_at);

-- +goose Down
DROP TABLE session_clients;
ALTER TABLE clients DROP COLUMN backchannel_logout_uri;
