"""Keeps the leases of this worker process's live stage attempts.

A claim gives its row a lease of FLASHFLOW_STAGE_LEASE_S. While the attempt lives, the keeper
renews it every third of that, for all of the process's attempts in one statement, so the rescue
never takes a live attempt's row (and never starts a second attempt beside it). A row that comes
back without the attempt's token was taken over (this process was paused, or cut off from
Postgres, past its lease): the attempt learns it at once through `Held.lost()`, and its stage
child is stopped. No lease is renewed past its attempt's bound (limits.py), so a thread stuck
beyond Dramatiq's time limit does not keep its row. A worker that dies stops renewing, and its
leases lapse FLASHFLOW_STAGE_LEASE_S later.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from uuid import UUID

import psycopg
from psycopg_pool import ConnectionPool

from flashflow_core.db.sql import load_queries

log = logging.getLogger(__name__)
Q = load_queries("flashflow_core.winners", "leases.sql")

TAKEN_OVER = "its lease was taken over by a newer attempt"


@dataclass(eq=False)
class Held:
    """One live attempt's lease: its row, its token, and until when it may be renewed."""

    reference_id: UUID
    token: int
    renew_until: float  # time.monotonic()
    lost_reason: str | None = field(default=None)

    def lost(self) -> str | None:
        """Why the attempt no longer holds its row, or None while it does."""
        return self.lost_reason


class LeaseKeeper:
    """Renews the leases of the attempts running in this process."""

    def __init__(self, pool: ConnectionPool, lease_s: float) -> None:
        self.pool = pool
        self.lease_s = lease_s
        self.every_s = lease_s / 3
        self._held: set[Held] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failing = False

    @contextmanager
    def hold(self, reference_id: UUID, token: int, bound_s: float) -> Iterator[Held]:
        """Keep the lease of `reference_id` (claimed with `token`) alive for the block, at most `bound_s`."""
        held = Held(reference_id, token, time.monotonic() + bound_s)
        with self._lock:
            self._held.add(held)
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(target=self._run, name="flashflow-lease-keeper", daemon=True)
                self._thread.start()
        try:
            yield held
        finally:
            with self._lock:
                self._held.discard(held)

    def renew_now(self) -> None:
        """One round: extend every live attempt's lease; mark the attempts whose rows were taken over."""
        now = time.monotonic()
        with self._lock:
            due = [h for h in self._held if h.lost_reason is None and h.renew_until > now]
        if not due:
            return
        try:
            with self.pool.connection() as conn:
                kept = {(r["id"], r["lease_token"]) for r in conn.execute(Q["renew"], {
                    "lease_s": self.lease_s, "ids": [h.reference_id for h in due], "tokens": [h.token for h in due],
                }).fetchall()}
        except psycopg.Error as exc:
            # The lease runs on meanwhile; the attempt still holds its token when Postgres is back
            # unless someone took the row over, which the next round finds out.
            if not self._failing:
                log.warning("lease renewal failed; retrying every %.0f s", self.every_s, extra={"error": str(exc)})
            self._failing = True
            return
        if self._failing:
            log.info("lease renewal works again")
        self._failing = False
        with self._lock:
            for held in due:
                if (held.reference_id, held.token) not in kept and held in self._held:
                    held.lost_reason = TAKEN_OVER
                    log.warning("lease lost", extra={"reference_id": str(held.reference_id), "lease_token": held.token})

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            with self._lock:
                if not self._held:  # idle: the next hold starts a new thread
                    self._thread = None
                    return
            self.renew_now()

    def close(self) -> None:
        """Stop renewing for good (the process is stopping; leases lapse unless their attempts end first)."""
        self._stop.set()
        with self._lock:
            thread = self._thread
        if thread is not None:
            thread.join(timeout=5)
