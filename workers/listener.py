"""The intake listener: a thread in each worker process that LISTENs for reference_videos rows
inserted without a message and sends their fetch messages within a second or so.

It also sweeps for such rows when it starts and every `intake_sweep_s`, the backstop for a
notification sent while no worker was listening or a connection that dropped. Taking a row in is
claimed once in SQL, so any number of workers can listen.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from uuid import UUID

import psycopg
from psycopg_pool import ConnectionPool

from flashflow_core.config import Settings
from flashflow_core.db.pool import database_url
from flashflow_core.winners.intake import CHANNEL, take_in

log = logging.getLogger(__name__)


class IntakeListener:
    """LISTEN on the intake channel and hand each taken-in row to `send`."""

    def __init__(self, settings: Settings, pool: ConnectionPool, send: Callable[[UUID], None],
                 batch: int = 500) -> None:
        self.settings = settings
        self.pool = pool
        self.send = send
        self.batch = batch
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.listening = threading.Event()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="flashflow-intake", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def sweep(self) -> int:
        """Take in every waiting row, batch by batch; return how many were sent."""
        sent = 0
        while not self._stop.is_set():
            ids = take_in(self.pool, self.batch)
            for reference_id in ids:
                self.send(reference_id)
            sent += len(ids)
            if len(ids) < self.batch:
                break
        if sent:
            log.info("reference rows taken in from the database", extra={"count": sent})
        return sent

    def _run(self) -> None:
        delay = 1.0
        while not self._stop.is_set():
            try:
                self._listen()
                delay = 1.0
            except Exception as exc:  # a dropped connection or a failed send: reconnect and sweep again
                self.listening.clear()
                log.warning("intake listener error; reconnecting", extra={"error": repr(exc), "retry_in_s": delay})
                self._stop.wait(delay)
                delay = min(delay * 2, 30.0)

    def _listen(self) -> None:
        with psycopg.connect(database_url(self.settings), autocommit=True,
                             application_name="flashflow-intake") as conn:
            conn.execute(f"LISTEN {CHANNEL}")
            self.sweep()
            # Ready only after the first sweep: from here on, rows come in by notification.
            self.listening.set()
            next_sweep = time.monotonic() + self.settings.intake_sweep_s
            while not self._stop.is_set():
                woken = any(True for _ in conn.notifies(timeout=1.0))
                if woken or time.monotonic() >= next_sweep:
                    self.sweep()
                    next_sweep = time.monotonic() + self.settings.intake_sweep_s
