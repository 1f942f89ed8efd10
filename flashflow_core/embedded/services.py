"""Stands in for an unset DATABASE_URL / REDIS_URL with embedded servers shared by every process.

PostgreSQL runs from HOME/postgres and Valkey from HOME/valkey (HOME is Settings.home,
FLASHFLOW_HOME). They are started once, outlive the command that started them, and are reused
by every later `flashflow` process: HOME/services.json records each one's pid and port, and a
recorded server is reused only after it answers as the expected process and data folder, so a
file left over from before a reboot just leads to a fresh start. Starting and stopping happen
under an exclusive lock on HOME/services.lock, so processes starting together share one server.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

import psycopg
import redis

from flashflow_core.embedded import postgres as embedded_pg, valkey as embedded_valkey
from flashflow_core.config import Settings
from flashflow_core.embedded.common import Running, ServiceError
from flashflow_core.embedded.postgres import EmbeddedPostgres
from flashflow_core.embedded.valkey import EmbeddedValkey

__all__ = ["ServiceError", "ServiceStatus", "ensure_services", "find_services", "services_status", "stop_services"]

log = logging.getLogger(__name__)

STATE_FILE = "services.json"
LOCK_FILE = "services.lock"
# Which setting each embedded server stands in for, and its environment variable.
SETTING = {"postgres": "database_url", "valkey": "redis_url"}
ENV_NAME = {"postgres": "DATABASE_URL", "valkey": "REDIS_URL"}


class EmbeddedServer(Protocol):
    """What services needs from an embedded server manager."""

    name: str
    data_dir: Path

    def check(self, pid: int, port: int) -> Running | None: ...
    def find(self) -> Running | None: ...
    def ensure(self) -> Running: ...
    def stop(self) -> str: ...
    def url(self, port: int) -> str: ...


@dataclass(frozen=True)
class ServiceStatus:
    """One service as `flashflow services status` shows it."""

    name: str
    kind: Literal["embedded", "external"]
    url: str | None
    running: bool
    pid: int | None = None
    version: str | None = None
    data_dir: Path | None = None


def home_dir(settings: Settings) -> Path:
    """Settings.home as an absolute path (relative homes are taken from the current folder)."""
    return settings.home.expanduser().resolve()


def _servers(home: Path) -> dict[str, EmbeddedServer]:
    return {"postgres": EmbeddedPostgres(home), "valkey": EmbeddedValkey(home)}


def _read_state(home: Path) -> dict[str, dict]:
    try:
        state = json.loads((home / STATE_FILE).read_text())
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


def _write_state(home: Path, state: dict[str, dict]) -> None:
    """Replace the state file atomically, so a reader never sees half of it."""
    scratch = home / f".{STATE_FILE}.{os.getpid()}"
    scratch.write_text(json.dumps(state, indent=2, sort_keys=True))
    os.replace(scratch, home / STATE_FILE)


@contextmanager
def _locked(home: Path) -> Iterator[None]:
    """Hold the exclusive start/stop lock of this home (released if the process dies)."""
    home.mkdir(parents=True, exist_ok=True)
    with open(home / LOCK_FILE, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _recorded(server: EmbeddedServer, state: dict[str, dict]) -> Running | None:
    """The server the state file records, if it is alive and answers as ours."""
    record = state.get(server.name)
    if not isinstance(record, dict):
        return None
    try:
        return server.check(int(record["pid"]), int(record["port"]))
    except (KeyError, TypeError, ValueError):
        return None


def _record(server: EmbeddedServer, running: Running) -> dict[str, object]:
    return {
        "pid": running.pid,
        "port": running.port,
        "version": running.version,
        "url": server.url(running.port),
        "data_dir": str(server.data_dir),
    }


def ensure_services(settings: Settings) -> Settings:
    """Settings with DATABASE_URL / REDIS_URL filled: given URLs are kept, unset ones point at
    the embedded servers, found running or started now."""
    wanted = [name for name, field in SETTING.items() if getattr(settings, field) is None]
    if not wanted:
        return settings
    home = home_dir(settings)
    servers = _servers(home)
    state = _read_state(home)
    found = {name: _recorded(servers[name], state) for name in wanted}
    if any(running is None for running in found.values()):
        with _locked(home):
            state = _read_state(home)
            for name in wanted:
                running = _recorded(servers[name], state) or servers[name].ensure()
                state[name] = _record(servers[name], running)
                found[name] = running
            _write_state(home, state)
    for name, running in found.items():
        log.debug("using embedded server", extra={"service": name, "pid": running.pid, "port": running.port})
    return settings.model_copy(
        update={SETTING[name]: servers[name].url(running.port) for name, running in found.items() if running}
    )


def find_services(settings: Settings) -> Settings:
    """Settings with unset URLs filled from embedded servers that are already running; starts nothing."""
    update = {
        SETTING[status.name]: status.url
        for status in services_status(settings)
        if status.kind == "embedded" and status.running
    }
    return settings.model_copy(update=update)


def _external_version(name: str, url: str) -> str | None:
    try:
        if name == "postgres":
            return embedded_pg.server_version(url)
        return embedded_valkey.server_version(url)
    except (psycopg.Error, redis.RedisError):
        return None


def services_status(settings: Settings) -> list[ServiceStatus]:
    """Where each service is and whether it answers; starts nothing."""
    home = home_dir(settings)
    state = _read_state(home)
    statuses = []
    for name, server in _servers(home).items():
        url = getattr(settings, SETTING[name])
        if url is not None:
            version = _external_version(name, url)
            statuses.append(ServiceStatus(name, "external", url, version is not None, version=version))
            continue
        running = _recorded(server, state) or server.find()
        statuses.append(
            ServiceStatus(
                name,
                "embedded",
                server.url(running.port) if running else None,
                running is not None,
                running.pid if running else None,
                running.version if running else None,
                server.data_dir,
            )
        )
    return statuses


def stop_services(settings: Settings) -> list[str]:
    """Stop the embedded servers cleanly; external ones (URL given) are left alone. One line per service."""
    home = home_dir(settings)
    if not home.exists():
        return [f"{name}: not running" for name in SETTING]
    lines = []
    with _locked(home):
        state = _read_state(home)
        for name, server in _servers(home).items():
            if getattr(settings, SETTING[name]) is not None:
                lines.append(f"{name}: external ({ENV_NAME[name]}), left running")
                continue
            lines.append(server.stop())
            state.pop(name, None)
        _write_state(home, state)
    return lines
