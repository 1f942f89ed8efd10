"""Single fire across schedulers: the leader lock and the (schedule, fire time) ledger.

One scheduler process at a time is active: it holds a session advisory lock on a connection
of its own, and the lock goes with that session when the process dies. The others stand by
and poll for the lock. Every tick is claimed by inserting its (schedule, fire_time) row in
the transaction that sends the message, so even two active schedulers (a hand-over, a network
partition) send each tick once.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from flashflow_core.db.sql import load_queries

log = logging.getLogger(__name__)

Q = load_queries("flashflow_core.scheduling", "queries.sql")

# An arbitrary constant shared by every `flashflow scheduler` process.
SCHEDULER_LOCK_KEY = 7_265_031_822_105


def claim_fire(conn: psycopg.Connection, *, schedule: str, fire_time: datetime, actor: str,
               message_id: str, scheduler: str) -> bool:
    """Record the tick inside the caller's transaction; False when it was claimed already."""
    row = conn.execute(Q["claim_fire"], {"schedule": schedule, "fire_time": fire_time, "actor": actor,
                                         "message_id": message_id, "scheduler": scheduler}).fetchone()
    return row is not None


def last_fires(conn: psycopg.Connection) -> dict[str, dict[str, Any]]:
    """{schedule: its latest ledger row}."""
    rows = conn.execute(Q["last_fires"]).fetchall()
    return {row["schedule"]: row for row in rows}


def recent_fires(conn: psycopg.Connection, per_schedule: int = 5) -> dict[str, list[dict[str, Any]]]:
    """{schedule: its latest `per_schedule` ledger rows, newest first}."""
    fires: dict[str, list[dict[str, Any]]] = {}
    for row in conn.execute(Q["recent_fires"], {"per_schedule": per_schedule}):
        fires.setdefault(row["schedule"], []).append(row)
    return fires


def leader(conn: psycopg.Connection, key: int = SCHEDULER_LOCK_KEY) -> dict[str, Any] | None:
    """The session of the active scheduler (pid, application_name naming its host:pid, client_addr,
    backend_start), or None when no scheduler is active."""
    return conn.execute(Q["leader"], {"hi": key >> 32, "lo": key & 0xFFFFFFFF}).fetchone()


def prune_fires(conn: psycopg.Connection, keep_s: float) -> int:
    """Delete ledger rows older than `keep_s` seconds; return how many."""
    return conn.execute(Q["prune_fires"], {"keep_s": keep_s}).rowcount


class LeaderLock:
    """The advisory lock that makes one scheduler the active one, on a connection of its own."""

    def __init__(self, database_url: str, key: int = SCHEDULER_LOCK_KEY, identity: str | None = None) -> None:
        self._url = database_url
        self._key = key
        # The lock's session names its holder, so `leader()` (the console) can say who leads.
        self._application_name = f"flashflow-scheduler {identity}"[:63] if identity else "flashflow-scheduler"
        self._conn: psycopg.Connection | None = None

    def try_acquire(self) -> bool:
        """Take the lock if no other scheduler holds it; False (never raises) otherwise."""
        try:
            if self._conn is None or self._conn.closed:
                self._conn = psycopg.connect(
                    self._url, autocommit=True, row_factory=dict_row, application_name=self._application_name,
                    connect_timeout=10, keepalives=1, keepalives_idle=10, keepalives_interval=5, keepalives_count=3)
            row = self._conn.execute(Q["try_lock"], {"key": self._key}).fetchone()
            return bool(row and row["locked"])
        except psycopg.OperationalError as exc:
            log.warning("cannot reach Postgres for the scheduler lock", extra={"error": str(exc)})
            self._close()
            return False

    def still_held(self) -> bool:
        """Whether the lock's session is still alive (the lock lives exactly as long)."""
        if self._conn is None or self._conn.closed:
            return False
        try:
            self._conn.execute("SELECT 1")
            return True
        except psycopg.OperationalError:
            self._close()
            return False

    def release(self) -> None:
        """Give the lock up so a standby takes over at once."""
        if self._conn is not None and not self._conn.closed:
            try:
                self._conn.execute(Q["unlock"], {"key": self._key})
            except psycopg.OperationalError:
                pass
        self._close()

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
