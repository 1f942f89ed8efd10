"""Rows for the scheduled-job tests: users, videos and the like, inserted into the real test
database."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb


def insert(conn: psycopg.Connection, table: str, **values: Any) -> dict[str, Any]:
    """INSERT one row into public.<table> (or schema.table) and return it; dicts become JSONB."""
    schema, _, name = table.rpartition(".")
    target = sql.Identifier(schema or "public", name)
    if not values:
        return conn.execute(sql.SQL("INSERT INTO {} DEFAULT VALUES RETURNING *").format(target)).fetchone()
    values = {k: Jsonb(v) if isinstance(v, dict) else v for k, v in values.items()}
    query = sql.SQL("INSERT INTO {} ({}) VALUES ({}) RETURNING *").format(
        target,
        sql.SQL(", ").join(map(sql.Identifier, values)),
        sql.SQL(", ").join(sql.Placeholder() * len(values)),
    )
    return conn.execute(query, list(values.values())).fetchone()


def make_user(conn: psycopg.Connection) -> uuid.UUID:
    """A user in auth.users."""
    user_id = uuid.uuid4()
    insert(conn, "auth.users", id=user_id, email=f"{user_id.hex[:10]}@example.test")
    return user_id


def make_video(conn: psycopg.Connection, **values: Any) -> uuid.UUID:
    """A video row with the given columns."""
    return insert(conn, "videos", **values)["id"]


def one(conn: psycopg.Connection, query: str, *params: Any) -> Any:
    """The first column of the first row."""
    row = conn.execute(query, params).fetchone()
    return None if row is None else next(iter(row.values()))
