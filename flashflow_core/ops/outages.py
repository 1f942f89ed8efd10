"""Postgres or Redis not answering, or a database not migrated, said in one line a person can act on.

Commands check the servers they need before they start (`check_postgres`, `check_redis`, each
bounded by CONNECT_TIMEOUT_S), and turn a connection error raised later into the same kind of
line (`explain`). Lines name the server by host and port only: never a user name or password.
"""

from __future__ import annotations

import re

import psycopg
import redis
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import PoolTimeout
from redis.connection import parse_url

from flashflow_core.db import migrate
from flashflow_core.redaction import redact

# Per server; a blackholed address costs this much, so a command with both servers down still
# answers well within 10 s.
CONNECT_TIMEOUT_S = 3


class ServerProblem(Exception):
    """A server FlashFlow needs cannot be used; `str()` is the line to show."""

    def __init__(self, message: str, *, not_migrated: bool = False) -> None:
        super().__init__(message)
        self.not_migrated = not_migrated


def postgres_address(url: str) -> str:
    """`host:port` of a Postgres URL (a socket folder for local sockets); no credentials."""
    try:
        params = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "(an unparsable DATABASE_URL)"
    hosts = (params.get("host") or params.get("hostaddr") or "localhost").split(",")
    ports = str(params.get("port") or "").split(",")
    shown = []
    for i, host in enumerate(hosts):
        port = (ports[i] if i < len(ports) else ports[-1]) or "5432"
        shown.append(f"socket {host}" if host.startswith("/") else f"{host}:{port}")
    return ", ".join(shown)


def redis_address(url: str) -> str:
    """`host:port` of a Redis URL (the socket path for unix://); no credentials."""
    try:
        params = parse_url(url)
    except ValueError:
        return "(an unparsable REDIS_URL)"
    if "path" in params:
        return f"socket {params['path']}"
    return f"{params.get('host') or 'localhost'}:{params.get('port') or 6379}"


def _postgres_reason(exc: BaseException, timeout_s: float) -> str:
    if isinstance(exc, (psycopg.errors.ConnectionTimeout, PoolTimeout)) or "timeout expired" in str(exc):
        return f"no answer within {timeout_s:g} s"
    text = redact(str(exc).strip())
    last = text.split("\n")[0].rsplit("failed: ", 1)[-1].strip()
    return (last[:1].lower() + last[1:]) if last else type(exc).__name__


def _redis_reason(exc: BaseException, timeout_s: float) -> str:
    if isinstance(exc, redis.TimeoutError):
        return f"no answer within {timeout_s:g} s"
    text = re.sub(r"^Error \d+ (while )?connecting to \S+?\.?\s", "", redact(str(exc).strip())).rstrip(".")
    return (text[:1].lower() + text[1:]) if text else type(exc).__name__


def postgres_unavailable(url: str, exc: BaseException, timeout_s: float = CONNECT_TIMEOUT_S) -> ServerProblem:
    """The line for a Postgres server that could not be used."""
    return ServerProblem(f"cannot reach Postgres at {postgres_address(url)} ({_postgres_reason(exc, timeout_s)})")


def redis_unavailable(url: str, exc: BaseException, timeout_s: float = CONNECT_TIMEOUT_S) -> ServerProblem:
    """The line for a Redis server that could not be used."""
    return ServerProblem(f"cannot reach Redis at {redis_address(url)} ({_redis_reason(exc, timeout_s)})")


def _database(url: str) -> str:
    try:
        name = conninfo_to_dict(url).get("dbname")
    except psycopg.ProgrammingError:
        name = None
    return f"the database {name} at {postgres_address(url)}" if name else f"the database at {postgres_address(url)}"


def not_migrated(url: str, detail: str) -> ServerProblem:
    """The line for a database without FlashFlow's tables, or with migrations pending."""
    return ServerProblem(f"{_database(url)} {detail}: run `flashflow migrate`", not_migrated=True)


def check_postgres(url: str, *, require_migrated: bool = True, timeout_s: float = CONNECT_TIMEOUT_S) -> None:
    """Raise ServerProblem unless Postgres answers (and, by default, every migration is applied)."""
    try:
        with psycopg.connect(url, connect_timeout=max(2, round(timeout_s)), autocommit=True) as conn:
            if not require_migrated:
                return
            applied = migrate.applied_versions(conn)
            waiting = migrate.pending(conn)
    except psycopg.OperationalError as exc:
        raise postgres_unavailable(url, exc, timeout_s) from exc
    except migrate.MigrationError as exc:
        raise ServerProblem(f"{_database(url)}: {exc}", not_migrated=True) from exc
    if not applied:
        raise not_migrated(url, "has no FlashFlow tables")
    if waiting:
        raise not_migrated(url, f"has {len(waiting)} migration(s) pending (first {waiting[0].filename})")


def check_redis(url: str, *, timeout_s: float = CONNECT_TIMEOUT_S) -> None:
    """Raise ServerProblem unless Redis answers a PING."""
    client = redis.Redis.from_url(url, socket_connect_timeout=timeout_s, socket_timeout=timeout_s)
    try:
        client.ping()
    except redis.RedisError as exc:
        raise redis_unavailable(url, exc, timeout_s) from exc
    finally:
        client.close()


def explain(exc: BaseException, database_url: str | None, redis_url: str | None) -> ServerProblem | None:
    """The one-line problem behind an exception a command let through, or None if it is not one."""
    from dramatiq.errors import ConnectionError as BrokerConnectionError

    if isinstance(exc, ServerProblem):
        return exc
    if isinstance(exc, (psycopg.errors.UndefinedTable, psycopg.errors.UndefinedColumn,
                        psycopg.errors.UndefinedFunction)) and database_url:
        return not_migrated(database_url, f"lacks what this version needs ({str(exc).splitlines()[0]})")
    if isinstance(exc, (psycopg.OperationalError, PoolTimeout)) and database_url:
        return postgres_unavailable(database_url, exc)
    if isinstance(exc, (redis.ConnectionError, redis.TimeoutError, BrokerConnectionError)) and redis_url:
        cause = exc.__cause__ if isinstance(exc, BrokerConnectionError) and exc.__cause__ else exc
        return redis_unavailable(redis_url, cause)
    return None
