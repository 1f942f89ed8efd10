"""A server lost by a worker process: one line when it goes, one per reconnect attempt, one when
it is back.

Dramatiq restarts each consumer thread (eight in a worker on every queue) every 3 s while Redis is
away, logging two lines each time: 283 lines in 50 s. Instead, whoever hits a connection error
reports it to the process's `ServerWatch`; the first report logs the loss and starts one
reconnect thread that probes with backoff (1, 2, 4 s ... at most MAX_DELAY_S, so work resumes
within seconds of the server answering), logging each failed attempt and the recovery. Consumers,
the heartbeat and the intake wait quietly meanwhile.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

FIRST_DELAY_S = 1.0
MAX_DELAY_S = 5.0


class ServerWatch:
    """Whether one server answers, as this process last saw it."""

    def __init__(self, name: str, probe: Callable[[], object], describe: Callable[[BaseException], str]) -> None:
        self.name = name
        self.probe = probe
        self.describe = describe
        self._up = threading.Event()
        self._up.set()
        self._closed = threading.Event()
        self._lock = threading.Lock()

    @property
    def up(self) -> bool:
        """False from the first reported error until a probe succeeds."""
        return self._up.is_set()

    def lost(self, exc: BaseException) -> None:
        """Report a connection error; the first report of an outage logs it and starts reconnecting."""
        with self._lock:
            if not self._up.is_set() or self._closed.is_set():
                return
            self._up.clear()
        log.warning(f"{self.describe(exc)}; reconnecting", extra={"server": self.name, "retry_in_s": FIRST_DELAY_S})
        threading.Thread(target=self._reconnect, name=f"flashflow-reconnect-{self.name.lower()}",
                         daemon=True).start()

    def wait(self, timeout_s: float) -> bool:
        """Wait up to `timeout_s` for the server to answer again; True when it does."""
        return self._up.wait(timeout_s)

    def close(self) -> None:
        """Stop reconnecting (the process is shutting down)."""
        self._closed.set()

    def _reconnect(self) -> None:
        started, delay, attempt = time.monotonic(), FIRST_DELAY_S, 0
        while not self._closed.wait(delay):
            attempt += 1
            try:
                self.probe()
            except Exception as exc:  # whatever the client raises, the server is still away
                delay = min(delay * 2, MAX_DELAY_S)
                log.warning(f"{self.describe(exc)}; reconnect attempt {attempt} failed",
                            extra={"server": self.name, "attempt": attempt, "retry_in_s": delay})
                continue
            log.info(f"{self.name} answers again", extra={
                "server": self.name, "attempts": attempt, "down_s": round(time.monotonic() - started, 1)})
            self._up.set()
            return
