"""Per-process resources actors share: the settings and the database pool.

The worker entry point calls `configure(settings)` once after the broker is set up; actors call
`current()` to reach the pool. The pool opens on first use and closes at worker shutdown.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from psycopg_pool import ConnectionPool

from flashflow_core.config import Settings
from flashflow_core.db import make_pool


@dataclass
class Runtime:
    """Settings and lazily opened shared resources of one worker process."""

    settings: Settings
    _pool: ConnectionPool | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def pool(self) -> ConnectionPool:
        with self._lock:
            if self._pool is None:
                self._pool = make_pool(self.settings, name="flashflow-worker")
            return self._pool

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.close()
                self._pool = None


_current: Runtime | None = None


def configure(settings: Settings) -> Runtime:
    """Install the runtime for this process (replacing and closing any earlier one)."""
    global _current
    if _current is not None:
        _current.close()
    _current = Runtime(settings)
    return _current


def current() -> Runtime:
    """The runtime installed by `configure`."""
    if _current is None:
        raise RuntimeError("jobs.runtime.configure(settings) was not called in this process")
    return _current
