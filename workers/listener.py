"""The intake listener: a thread in each worker process that consumes `fetch`, sending the messages
Winners Bank rows are still owed (`flashflow_core.winners.intake`).

It LISTENs for rows inserted straight into Postgres and takes them in within a second or so; it
sweeps for such rows when it starts and every `intake_sweep_s` (the backstop for a notification
sent while no worker was listening); and every OWED_CHECK_S it sends the messages rows owe (a
sender that could not reach Redis). Each row is claimed once in SQL, so any number of workers can
listen. When Redis does not take a message, the claim rolls back, the outage is reported to the
process's Redis watch (`jobs.reconnect`, which logs each reconnect attempt), and sending resumes
within a second of it answering again.
"""

from __future__ import annotations

import logging
import threading
import time

import dramatiq.errors
import psycopg
import redis
from psycopg_pool import ConnectionPool

from flashflow_core.config import Settings
from flashflow_core.db.pool import database_url
from flashflow_core.winners.intake import CHANNEL, Send, resend_owed, take_in
from jobs.reconnect import ServerWatch

log = logging.getLogger(__name__)

OWED_CHECK_S = 2.0
SEND_ERRORS = (redis.ConnectionError, redis.TimeoutError, dramatiq.errors.ConnectionError)


class IntakeListener:
    """LISTEN on the intake channel and send every message a row is owed through `send`."""

    def __init__(self, settings: Settings, pool: ConnectionPool, send: Send, redis_watch: ServerWatch,
                 batch: int = 500) -> None:
        self.settings = settings
        self.pool = pool
        self.send = send
        self.redis_watch = redis_watch
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
        """Take in every row inserted without a message, batch by batch; return how many were sent."""
        sent = 0
        while not self._stop.is_set():
            count = take_in(self.pool, self.send, self.batch)
            sent += count
            if count < self.batch:
                break
        if sent:
            log.info("reference rows taken in from the database", extra={"count": sent})
        return sent

    def resend(self) -> int:
        """Send the messages rows have owed for a while; return how many were sent."""
        sent = 0
        while not self._stop.is_set():
            count = resend_owed(self.pool, self.send, self.batch)
            sent += count
            if count < self.batch:
                break
        if sent:
            log.info("owed messages sent", extra={"count": sent})
        return sent

    def _run(self) -> None:
        delay = 1.0
        while not self._stop.is_set():
            try:
                self._listen()
                delay = 1.0
            except psycopg.Error as exc:  # a dropped connection: reconnect and sweep again
                self.listening.clear()
                log.warning("intake listener lost Postgres; reconnecting",
                            extra={"error": str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc),
                                   "retry_in_s": delay})
                self._stop.wait(delay)
                delay = min(delay * 2, 30.0)
            except Exception:  # a bug must not silently end the intake: say so, and try again
                self.listening.clear()
                log.exception("intake listener failed; restarting", extra={"retry_in_s": delay})
                self._stop.wait(delay)
                delay = min(delay * 2, 30.0)

    def _listen(self) -> None:
        with psycopg.connect(database_url(self.settings), autocommit=True,
                             application_name="flashflow-intake") as conn:
            conn.execute(f"LISTEN {CHANNEL}")
            retry_in = self._sending(self.sweep)
            # Ready only after the first sweep: from here on, rows come in by notification.
            self.listening.set()
            now = time.monotonic()
            next_sweep, next_owed = now + (retry_in or self.settings.intake_sweep_s), now
            while not self._stop.is_set():
                woken = any(True for _ in conn.notifies(timeout=1.0))
                now = time.monotonic()
                if woken or now >= next_sweep:
                    next_sweep = now + (self._sending(self.sweep) or self.settings.intake_sweep_s)
                if now >= next_owed:
                    next_owed = now + (self._sending(self.resend) or OWED_CHECK_S)

    def _sending(self, sweep) -> float:
        """Run a sweep unless Redis is known to be away; 0 when it went through, else how long to
        wait before looking again (the rows keep waiting, their claims rolled back)."""
        if not self.redis_watch.up:
            return 1.0
        try:
            sweep()
        except SEND_ERRORS as exc:
            self.redis_watch.lost(exc)
            return 1.0
        return 0.0
