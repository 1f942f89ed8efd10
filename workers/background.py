"""What a `flashflow worker` process runs beside its Dramatiq worker: the intake listener and
the Prometheus endpoint. Added as a middleware by `start_worker`, so both start after the worker
boots and stop when it shuts down."""

from __future__ import annotations

import logging

import dramatiq

from flashflow_core.ops import metrics
from flashflow_core.config import Settings
from jobs import runtime
from workers.listener import IntakeListener

log = logging.getLogger(__name__)


class WorkerBackground(dramatiq.Middleware):
    """Starts the intake listener (when the worker consumes `fetch`) and the metrics endpoint."""

    def __init__(self, settings: Settings, queues: set[str] | None) -> None:
        self.settings = settings
        self.queues = queues
        self.listener: IntakeListener | None = None
        self.metrics_server = None

    def after_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        from jobs.winners import send_stage

        if self.queues is None or "fetch" in self.queues:
            self.listener = IntakeListener(self.settings, runtime.current().pool, send_stage, broker.redis_watch)
            self.listener.start()
        if self.settings.metrics_port:
            self.metrics_server = metrics.serve(self.settings, broker.get_declared_queues())

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        if self.listener is not None:
            self.listener.stop()
            self.listener = None
        if self.metrics_server is not None:
            self.metrics_server.shutdown()
            self.metrics_server.server_close()
            self.metrics_server = None
