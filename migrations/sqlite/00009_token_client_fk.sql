-- On PostgreSQL this version drops the token tables' foreign keys to
-- clients (a row lock per token insert; see the PostgreSQL migration). On
-- SQLite, where one connection writes and a foreign key check is a plain
-- lookup, they stay; this version keeps the two schemas numbered alike.

-- +goose Up
SELECT 1;

-- +goose Down
SELECT 1;
