"""Database access: a connection pool built from settings, and small helpers around it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from flashflow_core.config import Settings


class DatabaseNotConfigured(RuntimeError):
    """No DATABASE_URL was resolved (neither given nor started embedded)."""


def database_url(settings: Settings) -> str:
    """The resolved Postgres URL, or a clear error."""
    if not settings.database_url:
        raise DatabaseNotConfigured("DATABASE_URL is not set and no embedded Postgres was started")
    return settings.database_url


def connect(settings: Settings, **kwargs: object) -> psycopg.Connection:
    """One connection with dict rows; the caller closes it."""
    return psycopg.connect(database_url(settings), row_factory=dict_row, **kwargs)  # type: ignore[arg-type]


def make_pool(settings: Settings, name: str = "flashflow", *, wait_s: float | None = None) -> ConnectionPool:
    """A pool of dict-row connections in autocommit mode, opened and ready.

    A lone statement commits by itself (one round trip, no BEGIN/COMMIT around it); statements
    that must stand or fall together go inside `transaction(pool)` or `conn.transaction()`.

    By default the pool opens with its first connections and a caller waits up to 30 s for a
    connection. With `wait_s`, for a process that must answer quickly while Postgres is away (the
    console), it opens at once, connects in the background, and no wait (for a connection, or
    of one connection attempt) lasts longer than `wait_s`: PoolTimeout instead.
    """
    kwargs: dict[str, object] = {"row_factory": dict_row, "application_name": name, "autocommit": True}
    if wait_s is not None:
        kwargs["connect_timeout"] = max(2, round(wait_s))  # libpq's minimum is 2 s
    pool = ConnectionPool(
        database_url(settings),
        min_size=settings.db_pool_min,
        max_size=settings.db_pool_max,
        kwargs=kwargs,
        name=name,
        open=False,
        timeout=30 if wait_s is None else wait_s,
    )
    pool.open(wait=wait_s is None, timeout=30)
    return pool


@contextmanager
def transaction(pool: ConnectionPool) -> Iterator[psycopg.Connection]:
    """A connection from the pool inside one transaction: commit on success, roll back on error."""
    with pool.connection() as conn:
        with conn.transaction():
            yield conn
