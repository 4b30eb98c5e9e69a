-- Brute-force protection and sign-in activity: lockout counters keyed by
-- what they count (an account and a source address, an address, an
-- account), and the recent successful sign-ins a user sees on the account
-- pages (kept 90 days by the clean-up).

-- +goose Up
CREATE TABLE attempt_counters (
    key          TEXT NOT NULL PRIMARY KEY,
    failures     INTEGER NOT NULL DEFAULT 0,
    window_start DATETIME NOT NULL,
    lockouts     INTEGER NOT NULL DEFAULT 0,
    locked_until DATETIME,
    expires_at   DATETIME NOT NULL
);
CREATE INDEX attempt_counters_expires_at_idx ON attempt_counters (expires_at);

CREATE TABLE sign_in_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    at         DATETIME NOT NULL,
    address    TEXT NOT NULL DEFAULT '',
    user_agent TEXT NOT NULL DEFAULT '',
    methods    TEXT NOT NULL DEFAULT '[]',
    expires_at DATETIME NOT NULL
);
CREATE INDEX sign_in_events_user_id_at_idx ON sign_in_events (user_id, at);
CREATE INDEX sign_in_events_expires_at_idx ON sign_in_events (expires_at);

-- +goose Down
DROP TABLE sign_in_events;
DROP TABLE attempt_counters;
