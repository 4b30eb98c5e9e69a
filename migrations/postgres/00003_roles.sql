-- Roles: named sets of scopes held by users (and, for the client
-- credentials grant, by clients). Deleting a user, client or role removes
-- its assignments.

-- +goose Up
CREATE TABLE roles (
    name        TEXT PRIMARY KEY,
    description TEXT NOT NULL DEFAULT '',
    scopes      TEXT NOT NULL DEFAULT '[]',
    require_mfa BOOLEAN NOT NULL DEFAULT FALSE,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE user_roles (
    user_id   TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role_name TEXT NOT NULL REFERENCES roles (name) ON DELETE CASCADE,
    PRIMARY KEY (user_id, role_name)
);
CREATE INDEX user_roles_role_name_idx ON user_roles (role_name);

CREATE TABLE client_roles (
    client_id TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    role_name TEXT NOT NULL REFERENCES roles (name) ON DELETE CASCADE,
    PRIMARY KEY (client_id, role_name)
);
CREATE INDEX client_roles_role_name_idx ON client_roles (role_name);

-- +goose Down
DROP TABLE client_roles;
DROP TABLE user_roles;
DROP TABLE roles;
