"""The registry of worker processes: written by `flashflow worker` processes only, so
flashflow_workers_alive counts workers, never producers (Dramatiq's heartbeat set holds both)."""

from __future__ import annotations

import os
import time
import uuid

import pytest
from dramatiq import Message, Worker

from flashflow_core.ops import metrics, redis_keys, worker_registry
from jobs.broker import build_broker

pytestmark = pytest.mark.timeout(60)


def _workers_alive(settings, broker) -> float:
    collector = metrics.StateCollector(settings, broker.get_declared_queues())
    [family] = [f for f in collector.collect() if f.name == "flashflow_workers_alive"]
    return family.samples[0].value


def test_producers_are_not_counted_and_workers_are(broker, settings):
    producer = build_broker(settings)  # another process's broker, as `flashflow enqueue` builds it
    try:
        producer.declare_queue("extract")
        producer.enqueue(Message(queue_name="extract", actor_name="extract_reference",
                                 args=(str(uuid.uuid4()),), kwargs={}, options={}))
        # Dramatiq gave the producer a heartbeat, as it does on every call
        assert producer.client.zscore(producer.keys.heartbeats, producer.broker_id) is not None
        assert _workers_alive(settings, broker) == 0
    finally:
        producer.close()

    worker = Worker(broker, queues={"default", "fetch"}, worker_threads=3, worker_timeout=100)
    worker.start()
    try:
        deadline = time.monotonic() + 10
        while not worker_registry.entries(broker.client, broker.namespace):
            assert time.monotonic() < deadline, "the worker never recorded itself"
            time.sleep(0.05)
        [entry] = worker_registry.entries(broker.client, broker.namespace)
        assert _workers_alive(settings, broker) == 1
    finally:
        worker.stop()
    assert (entry.id, entry.pid, entry.queues, entry.threads) == (broker.broker_id, os.getpid(), ("default", "fetch"), 3)
    assert entry.host and entry.version and entry.started_at and entry.last_beat_ms > 0
    assert _workers_alive(settings, broker) == 0  # a clean stop leaves the registry at once
    assert not broker.client.exists(redis_keys.worker(broker.namespace, entry.id))


def test_a_worker_that_stops_beating_is_silent_then_forgotten(broker, settings):
    client, ns, timeout_s = broker.client, broker.namespace, 0.2
    gone = worker_registry.WorkerEntry(id="killed-worker", queues=("transcribe",), threads=1, pid=4242)
    worker_registry.record(client, ns, gone, timeout_s)
    assert worker_registry.alive_count(client, ns, timeout_s) == 1
    time.sleep(timeout_s + 0.1)
    live = worker_registry.WorkerEntry(id="live-worker", queues=("fetch", "extract"), threads=2)
    worker_registry.record(client, ns, live, timeout_s)
    assert worker_registry.alive_count(client, ns, timeout_s) == 1
    now_ms = int(time.time() * 1000)
    listed = worker_registry.entries(client, ns)
    # Most recent beat first; the silent one still says where it ran, for the console to show.
    assert [(e.id, e.pid, e.queues) for e in listed] == [("live-worker", os.getpid(), ("fetch", "extract")),
                                                         ("killed-worker", 4242, ("transcribe",))]
    assert listed[0].beat_age_s(now_ms) < timeout_s < listed[1].beat_age_s(now_ms)

    time.sleep(worker_registry.FORGET_AFTER_TIMEOUTS * timeout_s)
    worker_registry.record(client, ns, live, timeout_s)
    assert [e.id for e in worker_registry.entries(client, ns)] == ["live-worker"]
    assert not client.exists(redis_keys.worker(ns, "killed-worker"))  # its hash expired
    assert client.zscore(redis_keys.workers(ns), "killed-worker") is None  # the next beat dropped it
