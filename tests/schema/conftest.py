"""Helpers for the schema tests: users in auth.users, row inserts, and acting as an API role."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

from flashflow_core.db.migrate import discover, migrate
from tests.conftest import drop_database

# The role that owns a Supabase-like test database: what `postgres` is on Supabase.
SUPABASE_OWNER = "flashflow_test_supabase_owner"


def insert(conn: psycopg.Connection, table: str, **values: Any) -> dict[str, Any]:
    """INSERT one row into public.<table> (or schema.table) and return it; wrap JSON in Jsonb."""
    schema, _, name = table.rpartition(".")
    target = sql.Identifier(schema or "public", name)
    if not values:
        return conn.execute(sql.SQL("INSERT INTO {} DEFAULT VALUES RETURNING *").format(target)).fetchone()
    query = sql.SQL("INSERT INTO {} ({}) VALUES ({}) RETURNING *").format(
        target,
        sql.SQL(", ").join(map(sql.Identifier, values)),
        sql.SQL(", ").join(sql.Placeholder() * len(values)),
    )
    return conn.execute(query, list(values.values())).fetchone()


@pytest.fixture
def make_user(conn: psycopg.Connection) -> Callable[..., uuid.UUID]:
    """Create a user in auth.users (optionally with a user_profiles role) and return its id."""

    def make(email: str | None = None, role: str | None = None) -> uuid.UUID:
        user_id = uuid.uuid4()
        insert(conn, "auth.users", id=user_id, email=email or f"{user_id.hex[:8]}@example.test")
        if role is not None:
            insert(conn, "user_profiles", user_id=user_id, role=role)
        return user_id

    return make


@contextmanager
def acting_as(conn: psycopg.Connection, role: str, user_id: uuid.UUID | None = None) -> Iterator[psycopg.Connection]:
    """One transaction as an API role, with Supabase-style JWT claims when a user is given.

    Commits when the block ends normally, rolls back when it raises.
    """
    with conn.transaction():
        conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(role)))
        if user_id is not None:
            claims = json.dumps({"sub": str(user_id), "role": role})
            conn.execute("SELECT set_config('request.jwt.claims', %s, true)", (claims,))
        yield conn


@pytest.fixture(scope="session")
def supabase_db_url(admin_url: str, session_db_url: str) -> Iterator[str]:
    """A database set up the way Supabase sets up a project, migrated by its owner.

    On Supabase the `postgres` role the workers and migrations use is not a superuser: it owns
    the database and schema public, may SET ROLE to anon / authenticated / service_role, and its
    default privileges grant every new table, function and sequence in public to those three
    roles. `auth` (auth.users, auth.uid() ...) belongs to Supabase, made by a superuser. Here the
    owner is SUPABASE_OWNER (a cluster-wide login role; `session_db_url` has created the API
    roles), `auth` is made by the server's superuser, then `flashflow migrate` runs as the owner.
    """
    name = f"ffsupa_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        try:
            conn.execute(sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB CREATEROLE BYPASSRLS").format(
                sql.Identifier(SUPABASE_OWNER)))
        except (psycopg.errors.DuplicateObject, psycopg.errors.UniqueViolation):
            pass  # made by an earlier or concurrent test session
        conn.execute(sql.SQL("GRANT anon, authenticated, service_role TO {}").format(sql.Identifier(SUPABASE_OWNER)))
        conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(name), sql.Identifier(SUPABASE_OWNER)))
    superuser_url = make_conninfo(admin_url, dbname=name)
    owner_url = make_conninfo(admin_url, dbname=name, user=SUPABASE_OWNER)
    try:
        with psycopg.connect(superuser_url, autocommit=True) as conn:
            (auth,) = [m for m in discover() if m.name == "supabase_auth"]
            conn.execute(auth.sql.encode())
            owner = sql.Identifier(SUPABASE_OWNER)
            conn.execute(sql.SQL("GRANT USAGE ON SCHEMA auth TO {}").format(owner))
            conn.execute(sql.SQL("GRANT SELECT, REFERENCES ON auth.users TO {}").format(owner))
            conn.execute("GRANT USAGE ON SCHEMA public TO anon, authenticated, service_role")
            for kind in ("TABLES", "FUNCTIONS", "SEQUENCES"):
                conn.execute(sql.SQL("ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA public GRANT ALL ON {} "
                                     "TO anon, authenticated, service_role").format(owner, sql.SQL(kind)))
        migrate(owner_url)
        yield owner_url
    finally:
        drop_database(admin_url, superuser_url)
