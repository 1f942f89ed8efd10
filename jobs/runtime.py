"""Per-process resources actors share: settings, the database pool, the adapters, Redis.

The worker entry point calls `configure(settings)` once after the broker is set up; actors call
`current()`. Each resource opens on first use and closes at worker shutdown.
"""

from __future__ import annotations

import threading
from functools import cached_property

import redis
from psycopg_pool import ConnectionPool

from flashflow_core.adapters.toolkit import Toolkit
from flashflow_core.config import Settings
from flashflow_core.db.pool import make_pool
from flashflow_core.winners.pipeline import Pipeline


class Runtime:
    """Settings and lazily opened shared resources of one worker process."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._pool: ConnectionPool | None = None

    @property
    def pool(self) -> ConnectionPool:
        with self._lock:
            if self._pool is None:
                self._pool = make_pool(self.settings, name="flashflow-worker")
            return self._pool

    @cached_property
    def tools(self) -> Toolkit:
        return Toolkit(self.settings)

    @property
    def pipeline(self) -> Pipeline:
        """The stage runner over the current pool (cheap: built per use, so a reopened pool is seen)."""
        return Pipeline(self.pool, self.settings, self.tools)

    @cached_property
    def redis(self) -> redis.Redis:
        return redis.Redis.from_url(self.settings.redis_url or "")

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
