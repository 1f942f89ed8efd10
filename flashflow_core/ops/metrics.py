"""Prometheus metrics: per-process counters for what this worker did, and gauges of the shared
state (queues, dead letters, Winners Bank rows, scheduler ticks) read from Redis and Postgres
at scrape time. docs/operations.md says what each one means.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
import redis
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from flashflow_core.config import Settings
from flashflow_core.db.sql import load_queries
from flashflow_core.ops.queue_pause import QueuePauses
from flashflow_core.ops import worker_registry
from flashflow_core.ops.redis_keys import BrokerKeys, delay_queue

log = logging.getLogger(__name__)
Q = load_queries("flashflow_core.ops", "metrics.sql")

REGISTRY = CollectorRegistry(auto_describe=True)
_ACTOR = ["actor", "queue"]
MESSAGES = Counter("flashflow_messages", "Messages an actor started processing.", _ACTOR, registry=REGISTRY)
FAILURES = Counter("flashflow_message_failures", "Messages that ended in the dead-letter queue after running.",
                   _ACTOR, registry=REGISTRY)
ERRORS = Counter("flashflow_message_errors", "Message runs that raised (retried or not).", _ACTOR, registry=REGISTRY)
RETRIES = Counter("flashflow_message_retries", "Messages sent again for a retry after an error.", _ACTOR,
                  registry=REGISTRY)
DURATION = Histogram("flashflow_message_duration_seconds", "Time an actor spent on a message.", _ACTOR,
                     buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200),
                     registry=REGISTRY)
IN_PROGRESS = Gauge("flashflow_messages_in_progress", "Messages being processed now by this process.", _ACTOR,
                    registry=REGISTRY)
POISON = Counter("flashflow_poison_messages", "Payloads dead-lettered before running (bad JSON, unknown "
                 "actor, invalid arguments...).", ["queue", "kind"], registry=REGISTRY)


@dataclass(frozen=True)
class QueueState:
    """What one queue holds in Redis."""

    waiting: int
    delayed: int
    in_flight: int
    dead: int
    oldest_age_s: float | None


def queue_state(client: redis.Redis, namespace: str, queue: str, now_ms: int) -> QueueState:
    """Read one queue's counts and the age of its oldest waiting message."""
    keys = BrokerKeys(namespace)
    with client.pipeline(transaction=False) as pipe:
        pipe.llen(keys.queue(queue))
        pipe.hlen(keys.messages(queue))
        pipe.hlen(keys.messages(delay_queue(queue)))
        pipe.zcard(keys.dead(queue))
        pipe.lindex(keys.queue(queue), 0)
        waiting, stored, delayed, dead, head = pipe.execute()
    age = None
    if head is not None:
        payload = client.hget(keys.messages(queue), head)
        age = _age_s(payload, now_ms)
    return QueueState(int(waiting), int(delayed), max(int(stored) - int(waiting), 0), int(dead), age)


def _age_s(payload: bytes | None, now_ms: int) -> float | None:
    try:
        stamp = json.loads(payload)["message_timestamp"] if payload else None
    except (ValueError, TypeError, KeyError, UnicodeDecodeError):
        return None
    return max(now_ms - stamp, 0) / 1000 if isinstance(stamp, (int, float)) else None


def known_queues(client: redis.Redis, namespace: str, declared: set[str]) -> list[str]:
    """The declared queues plus any queue that has messages or dead letters in Redis."""
    found = set(declared)
    keys = BrokerKeys(namespace)
    for pattern in (keys.messages_pattern, keys.dead_pattern):
        for key in client.scan_iter(match=pattern, count=500):
            queue = keys.queue_of(key)
            if queue is not None:
                found.add(queue)
    return sorted(found)


class StateCollector(Collector):
    """Gauges of shared state, read at each scrape (the same from every process: aggregate with max)."""

    def __init__(self, settings: Settings, declared_queues: set[str]) -> None:
        self.settings = settings
        self.declared = declared_queues

    def collect(self) -> Iterator[Metric]:
        yield from self._redis_metrics()
        yield from self._postgres_metrics()

    def _redis_metrics(self) -> Iterator[Metric]:
        labels = ["queue"]
        depth = GaugeMetricFamily("flashflow_queue_messages", "Messages in a queue by state "
                                  "(waiting, delayed, in_flight).", labels=["queue", "state"])
        dead = GaugeMetricFamily("flashflow_dead_letter_messages", "Messages in a queue's dead-letter set.",
                                 labels=labels)
        age = GaugeMetricFamily("flashflow_queue_oldest_message_age_seconds",
                                "Age of the oldest waiting message (since it was first sent).", labels=labels)
        paused = GaugeMetricFamily("flashflow_queue_paused", "1 while a queue is paused (workers take none of its "
                                   "messages).", labels=labels)
        workers = GaugeMetricFamily("flashflow_workers_alive", "flashflow worker processes with a fresh heartbeat "
                                    "(the worker registry; producers are not counted).")
        up = GaugeMetricFamily("flashflow_redis_up", "1 when Redis answered this scrape.")
        ns, now_ms = self.settings.broker_namespace, int(time.time() * 1000)
        try:
            client = redis.Redis.from_url(self.settings.redis_url or "", socket_timeout=5)
            try:
                pauses = QueuePauses(client, ns).paused()
                for queue in known_queues(client, ns, self.declared):
                    paused.add_metric([queue], 1 if queue in pauses else 0)
                    state = queue_state(client, ns, queue, now_ms)
                    depth.add_metric([queue, "waiting"], state.waiting)
                    depth.add_metric([queue, "delayed"], state.delayed)
                    depth.add_metric([queue, "in_flight"], state.in_flight)
                    dead.add_metric([queue], state.dead)
                    age.add_metric([queue], state.oldest_age_s or 0.0)
                workers.add_metric([], worker_registry.alive_count(client, ns, self.settings.heartbeat_timeout_s))
            finally:
                client.close()
            up.add_metric([], 1)
        except redis.RedisError as exc:
            log.warning("metrics: Redis did not answer", extra={"error": str(exc)})
            up.add_metric([], 0)
        yield from (depth, dead, age, paused, workers, up)

    def _postgres_metrics(self) -> Iterator[Metric]:
        rows = GaugeMetricFamily("flashflow_reference_videos", "Winners Bank rows by status.", labels=["status"])
        ticks = CounterMetricFamily("flashflow_scheduler_ticks", "Scheduler ticks that sent a message.",
                                    labels=["schedule"])
        last = GaugeMetricFamily("flashflow_scheduler_last_tick_timestamp_seconds",
                                 "When each schedule last sent a message (Unix time).", labels=["schedule"])
        up = GaugeMetricFamily("flashflow_postgres_up", "1 when Postgres answered this scrape.")
        try:
            with psycopg.connect(self.settings.database_url or "", connect_timeout=5, autocommit=True) as conn:
                for status, count in conn.execute(Q["reference_status_counts"]):
                    rows.add_metric([status], count)
                try:
                    for schedule, count, latest in conn.execute(Q["scheduler_ticks"]):
                        ticks.add_metric([schedule], count)
                        last.add_metric([schedule], latest.timestamp())
                except psycopg.errors.UndefinedTable:
                    pass  # a database migrated before the scheduler's ledger existed
            up.add_metric([], 1)
        except psycopg.Error as exc:
            log.warning("metrics: Postgres did not answer", extra={"error": str(exc)})
            up.add_metric([], 0)
        yield from (rows, ticks, last, up)


def serve(settings: Settings, declared_queues: set[str], port: int | None = None):
    """Serve REGISTRY plus the shared-state gauges on settings.metrics_port; return the server."""
    registry = CollectorRegistry()
    registry.register(_Forward(REGISTRY))
    registry.register(StateCollector(settings, declared_queues))
    server, _thread = start_http_server(port or settings.metrics_port, addr=settings.metrics_addr, registry=registry)
    log.info("metrics endpoint listening", extra={"port": server.server_port, "addr": settings.metrics_addr})
    return server


class _Forward(Collector):
    """Exposes another registry's metrics, so the process metrics stay in one module-level registry."""

    def __init__(self, source: CollectorRegistry) -> None:
        self.source = source

    def collect(self) -> Iterator[Metric]:
        return self.source.collect()
