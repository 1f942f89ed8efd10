"""Counts, per actor, the messages a worker process runs, their errors, retries, failures and
durations (the metrics are defined in flashflow_core.ops.metrics)."""

from __future__ import annotations

import time
from typing import Any

import dramatiq
from dramatiq.broker import MessageProxy

from flashflow_core.ops import metrics
from flashflow_core.ops.redis_keys import base_queue


class ActorMetrics(dramatiq.Middleware):
    """Updates the per-actor Prometheus metrics around each message."""

    def __init__(self) -> None:
        self._started: dict[str, float] = {}

    def before_process_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        labels = (message.actor_name, base_queue(message.queue_name))
        metrics.MESSAGES.labels(*labels).inc()
        metrics.IN_PROGRESS.labels(*labels).inc()
        self._started[message.message_id] = time.monotonic()

    def after_process_message(self, broker: dramatiq.Broker, message: MessageProxy, *,
                              result: Any = None, exception: BaseException | None = None) -> None:
        labels = (message.actor_name, base_queue(message.queue_name))
        started = self._started.pop(message.message_id, None)
        if started is not None:
            metrics.IN_PROGRESS.labels(*labels).dec()
            metrics.DURATION.labels(*labels).observe(time.monotonic() - started)
        if exception is None:
            return
        metrics.ERRORS.labels(*labels).inc()
        # This runs after Retries' hook (see standard_middleware): failed means dead-lettered.
        if message.failed:
            metrics.FAILURES.labels(*labels).inc()
        else:
            metrics.RETRIES.labels(*labels).inc()

    def after_skip_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        labels = (message.actor_name, base_queue(message.queue_name))
        if self._started.pop(message.message_id, None) is not None:
            metrics.IN_PROGRESS.labels(*labels).dec()
        if message.failed:
            metrics.FAILURES.labels(*labels).inc()
