-- Queries the embedded Postgres server manager runs against its own server.

-- name: server_identity
SELECT current_setting('data_directory') AS data_directory, current_setting('server_version') AS version

-- name: database_exists
SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = %(name)s) AS present

-- name: server_version
SELECT current_setting('server_version') AS version
