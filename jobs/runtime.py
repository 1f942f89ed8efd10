"""Per-process resources actors share: settings, the database pool, the adapters, Redis.

`jobs.boot.boot(settings)` installs it once per process; actors call `current()`. Each
resource opens on first use and closes at shutdown.
"""

from __future__ import annotations

import random
import threading
from functools import cached_property

import dramatiq
import redis
from dramatiq.middleware import CurrentMessage
from psycopg_pool import ConnectionPool

from flashflow_core.adapters.toolkit import Toolkit
from flashflow_core.config import Settings
from flashflow_core.db.pool import make_pool
from flashflow_core.supervised import ChildPool, InThread, Runner
from flashflow_core.winners.leases import LeaseKeeper
from flashflow_core.winners.pipeline import Pipeline


class Runtime:
    """Settings, the broker and its actors, and lazily opened shared resources of one process."""

    def __init__(self, settings: Settings, broker: dramatiq.Broker | None = None,
                 actors: dict[str, dramatiq.Actor] | None = None, pool_wait_s: float | None = None) -> None:
        self.settings = settings
        self.broker = broker
        self.actors = actors or {}
        self.pool_wait_s = pool_wait_s  # make_pool's wait_s: None in workers, a few seconds in the console
        self._lock = threading.Lock()
        self._pool: ConnectionPool | None = None
        self._runner: Runner | None = None
        self._leases: LeaseKeeper | None = None

    @property
    def pool(self) -> ConnectionPool:
        with self._lock:
            if self._pool is None:
                self._pool = make_pool(self.settings, name="flashflow-worker", wait_s=self.pool_wait_s)
            return self._pool

    @cached_property
    def tools(self) -> Toolkit:
        return Toolkit(self.settings)

    @property
    def stage_runner(self) -> Runner:
        """Where stage work runs: supervised child processes; in the calling thread for the instant
        stand-in toolkit, whose stored files live in this process's memory."""
        with self._lock:
            if self._runner is None:
                self._runner = (InThread(self.settings, self.tools) if self.settings.toolkit == "instant"
                                else ChildPool(self.settings))
            return self._runner

    @property
    def pipeline(self) -> Pipeline:
        """The stage runner over the current pool (cheap: built per use, so a reopened pool is seen)."""
        pool, runner = self.pool, self.stage_runner
        with self._lock:
            if self._leases is None or self._leases.pool is not pool:
                self._leases = LeaseKeeper(pool, self.settings.stage_lease_s)
            leases = self._leases
        return Pipeline(pool, self.settings, self.tools, runner=runner, leases=leases)

    @cached_property
    def redis(self) -> redis.Redis:
        return redis.Redis.from_url(self.settings.redis_url or "")

    def close(self) -> None:
        with self._lock:
            runner, self._runner = self._runner, None
            leases, self._leases = self._leases, None
            pool, self._pool = self._pool, None
        for resource in (leases, runner, pool):
            if resource is not None:
                resource.close()


_current: Runtime | None = None


def configure(settings: Settings, broker: dramatiq.Broker | None = None,
              actors: dict[str, dramatiq.Actor] | None = None, pool_wait_s: float | None = None) -> Runtime:
    """Install the runtime for this process (replacing and closing any earlier one); `boot`
    calls it. A test may call it again to change settings under the same broker. `pool_wait_s`
    bounds every wait for a database connection (`make_pool`)."""
    global _current
    if _current is not None:
        _current.close()
        broker = broker or _current.broker
        actors = actors or _current.actors
    _current = Runtime(settings, broker, actors, pool_wait_s)
    return _current


def current() -> Runtime:
    """The runtime installed by `configure`."""
    if _current is None:
        raise RuntimeError("jobs.boot.boot(settings) was not called in this process")
    return _current


def current_message_id() -> str:
    """The Dramatiq message id of the job running on this thread: its lease holder and what its
    audit rows record (the scheduler's fire ledger records it too). An actor called directly,
    outside any message, gets a made-up `direct-…` id."""
    message = CurrentMessage.get_current_message()
    return message.message_id if message is not None else f"direct-{random.getrandbits(64):x}"
