"""Checks `flashflow_core.config.Settings` runs on values that pydantic's types alone accept:
URLs that must parse, patterns that must compile, addresses a server can listen on, names that
go into Redis keys. Each raises ValueError saying what is wrong (never echoing a password; the
caller shows the value redacted), so a bad setting stops every process at start instead of
failing every job later.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

import psycopg
from psycopg.conninfo import conninfo_to_dict
from redis.connection import parse_url

_SSLMODES = {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}
_HOSTNAME = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$")
_NAMESPACE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def _port(value: str | int, what: str) -> None:
    if not str(value).isdigit() or not 1 <= int(value) <= 65535:
        raise ValueError(f"{what} port must be a number from 1 to 65535, not {str(value)[:20]!r}")


def postgres_url(url: str) -> str:
    """A postgresql:// URL libpq can use: it parses, its ports are numbers, its sslmode is known."""
    if not url.startswith(("postgresql://", "postgres://")):
        raise ValueError("must start with postgresql:// or postgres://")
    try:
        params = conninfo_to_dict(url)
    except psycopg.ProgrammingError as exc:
        raise ValueError(f"is not a valid Postgres URL ({str(exc).splitlines()[0]})") from None
    for port in str(params.get("port") or "").split(","):
        if port:
            _port(port, "the Postgres")
    if params.get("sslmode") and params["sslmode"] not in _SSLMODES:
        raise ValueError(f"sslmode must be one of {', '.join(sorted(_SSLMODES))}")
    return url


def redis_url(url: str) -> str:
    """A redis://, rediss:// or unix:// URL redis-py can use, with a numeric port and database."""
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise ValueError("must start with redis://, rediss:// or unix://")
    try:
        params = parse_url(url)
    except ValueError as exc:
        raise ValueError(f"is not a valid Redis URL ({exc})") from None
    if "port" in params:
        _port(params["port"], "the Redis")
    if url.startswith(("redis://", "rediss://")):
        path = urlsplit(url).path.strip("/")
        if path and not path.isdigit():
            raise ValueError(f"the database after the host must be a number (redis://host:6379/0), not {path[:20]!r}")
        if not params.get("host"):
            raise ValueError("names no host")
    return url


def http_url(url: str) -> str:
    """An http:// or https:// URL with a host (and, if given, a valid port)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http:// or https:// URL with a host")
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number in range
    except ValueError as exc:
        raise ValueError(f"has an invalid port ({exc})") from None
    return url


def patterns(values: list[str]) -> list[str]:
    """Regular expressions that compile."""
    for value in values:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"{value!r} is not a valid regular expression ({exc})") from None
    return values


def listen_address(host: str) -> str:
    """An IP address or host name a server can bind to."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if not _HOSTNAME.match(host):
            raise ValueError("must be an IP address (e.g. 127.0.0.1, 0.0.0.0, ::) or a host name") from None
    return host


def namespace(value: str) -> str:
    """A name that goes into Redis keys and SCAN patterns: letters, digits, `_`, `.`, `-`."""
    if not _NAMESPACE.match(value):
        raise ValueError("must be 1-64 letters, digits, '_', '.' or '-' (it becomes part of every Redis key)")
    return value
