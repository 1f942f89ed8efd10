"""Cross-cutting worker behaviour, one concern per module, on Dramatiq's no-op Middleware base."""

from __future__ import annotations

from dramatiq import Middleware
from dramatiq.middleware import AgeLimit, Retries

from flashflow_core.config import Settings


def standard_middleware(settings: Settings) -> list[tuple[Middleware, type[Middleware] | None]]:
    """The middleware every FlashFlow broker carries, each with the one it must come before.

    Dramatiq calls `after_*` hooks in reverse order: LogContext goes first so its fields are
    set for every other hook, ActorMetrics before Retries so it sees Retries' verdict.
    """
    from jobs.middleware.dead_letters import DeadLetterAudit
    from jobs.middleware.heartbeat import Heartbeat
    from jobs.middleware.log_context import LogContext
    from jobs.middleware.metrics import ActorMetrics

    return [(LogContext(), AgeLimit), (ActorMetrics(), Retries), (DeadLetterAudit(), None),
            (Heartbeat(settings.broker_maintenance_interval_s, settings.worker_health_file), None)]
