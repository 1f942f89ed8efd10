"""The one way a process starts FlashFlow's jobs: broker, actors and runtime, in that order.

Every entry point (the worker, the scheduler, each CLI command that sends messages), the tests,
the benchmarks and the README call `boot(settings)`; nothing else builds a broker or declares
actors. Settings must have their URLs resolved (`flashflow_core.embedded.services.ensure_services`).
"""

from __future__ import annotations

import dramatiq

from flashflow_core.config import Settings
from jobs import runtime
from jobs.broker import build_broker
from jobs.registry import declare_actors
from jobs.winners import apply_time_limits


def boot(settings: Settings, *, pool_wait_s: float | None = None) -> runtime.Runtime:
    """Build the broker, make it Dramatiq's global broker, declare every actor on it, and
    install the runtime actors use; return that runtime (`.broker`, `.actors`). `pool_wait_s`:
    see `runtime.configure`."""
    broker = build_broker(settings)
    dramatiq.set_broker(broker)
    actors = declare_actors(broker)
    apply_time_limits(settings)
    return runtime.configure(settings, broker=broker, actors=actors, pool_wait_s=pool_wait_s)
