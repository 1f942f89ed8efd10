"""A worker's heartbeat and broker maintenance on a clock, independent of message traffic.

Dramatiq's Redis broker sends a worker's heartbeat only as a side effect of its calls, and
returns a dead worker's unacked messages only in "maintenance" that runs on a random share of
calls. This thread does both for every declared queue every `interval_s`, so a SIGKILLed
worker's messages are back on their queue about `heartbeat_timeout + interval_s` after the kill,
and a worker busy with long CPU-bound stages still counts as alive. It also touches the health
file that `flashflow healthcheck --worker` reads, and records the worker in the registry of
worker processes (`flashflow_core.ops.worker_registry`), which it leaves when it stops.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import dramatiq
import redis

from flashflow_core.ops import worker_registry

log = logging.getLogger(__name__)


class Heartbeat(dramatiq.Middleware):
    """Runs `broker.maintain(queue)` for every queue every `interval_s` while the worker runs."""

    def __init__(self, interval_s: float, health_file: Path | None = None) -> None:
        self.interval_s = interval_s
        self.health_file = health_file
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._entry: worker_registry.WorkerEntry | None = None

    def after_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        if not hasattr(broker, "maintain"):
            return
        queues = worker.consumer_whitelist or broker.get_declared_queues()
        self._entry = worker_registry.WorkerEntry(id=broker.broker_id, queues=tuple(sorted(queues)),
                                                  threads=worker.worker_threads)
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, args=(broker,), name="flashflow-heartbeat", daemon=True)
        self._thread.start()

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        if self._entry is not None:
            try:
                worker_registry.remove(broker.client, broker.namespace, self._entry.id)
            except redis.RedisError:
                pass  # Redis is away: the entry goes silent after the heartbeat timeout instead
            self._entry = None

    def beat(self, broker: dramatiq.Broker) -> None:
        """One round: heartbeat and maintenance on every queue, then touch the health file."""
        for queue in sorted(broker.all_queue_names()):
            broker.maintain(queue)
        if self._entry is not None:
            worker_registry.record(broker.client, broker.namespace, self._entry, broker.heartbeat_timeout / 1000)
        if self.health_file is not None:
            self.health_file.parent.mkdir(parents=True, exist_ok=True)
            self.health_file.touch()

    def _run(self, broker: dramatiq.Broker) -> None:
        while not self._stop.is_set():
            try:
                if broker.redis_watch.up:  # while Redis is away, its reconnect thread speaks for it
                    self.beat(broker)
            except redis.RedisError as exc:
                broker.redis_watch.lost(exc)
            except OSError as exc:
                log.warning("could not touch the health file", extra={"path": str(self.health_file),
                                                                        "error": str(exc)})
            self._stop.wait(self.interval_s)
