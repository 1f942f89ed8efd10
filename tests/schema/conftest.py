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
