"""The Prometheus endpoint a worker serves: per-actor counters from real messages, and gauges of
queues, dead letters, Winners Bank rows and scheduler ticks read from Redis and Postgres."""

from __future__ import annotations

import json
import time
import urllib.request
import uuid

import pytest
from dramatiq import Worker
from prometheus_client.parser import text_string_to_metric_families

from flashflow_core.ops import metrics
from flashflow_core.ops.queue_pause import QueuePauses
from tests.jobs.test_poison import envelope, push

pytestmark = pytest.mark.timeout(120)


def scrape(port: int) -> dict[tuple[str, tuple], float]:
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def sample(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_endpoint_reports_actors_queues_dead_letters_rows_and_ticks(broker, settings, conn):
    actor = {"actor": "enqueue_reference", "queue": "default"}
    before_messages = metrics.REGISTRY.get_sample_value("flashflow_messages_total", actor) or 0.0
    before_poison = metrics.REGISTRY.get_sample_value("flashflow_poison_messages_total",
                                                      {"queue": "default", "kind": "bad_json"}) or 0.0

    for n in range(3):
        rid = str(uuid.uuid4())
        push(broker.client, "default", rid, json.dumps(envelope(
            "enqueue_reference", {"url": f"https://www.tiktok.com/@m/video/{7500000000000000000 + n}"}, rid)))
    push(broker.client, "default", str(uuid.uuid4()), b"{broken")
    old = envelope("rescue_stuck_references", {}, "waiting-1", message_timestamp=int(time.time() * 1000) - 90_000)
    push(broker.client, "extract", "waiting-1", json.dumps({**old, "queue_name": "extract"}))
    conn.execute("INSERT INTO flashflow_schedule_fires (schedule, fire_time, actor, message_id, scheduler) "
                 "VALUES ('expire-assignments', now(), 'expire_assignments', 'm1', 'test')")

    QueuePauses(broker.client, broker.namespace).pause("transcribe", "test")

    worker = Worker(broker, queues={"default"}, worker_threads=2, worker_timeout=100)
    worker.start()
    server = metrics.serve(settings, broker.get_declared_queues(), port=0)
    try:
        deadline = time.monotonic() + 20
        while conn.execute("SELECT count(*) AS n FROM reference_videos").fetchone()["n"] < 3 \
                or broker.client.zcard("dramatiq:default.XQ") < 1:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        worker.join()
        samples = scrape(server.server_port)
    finally:
        server.shutdown()
        server.server_close()
        worker.stop()

    assert sample(samples, "flashflow_messages_total", **actor) - before_messages == 3
    assert sample(samples, "flashflow_message_duration_seconds_count", **actor) >= 3
    assert sample(samples, "flashflow_poison_messages_total", queue="default", kind="bad_json") - before_poison == 1
    assert sample(samples, "flashflow_dead_letter_messages", queue="default") == 1
    # the three fetch messages the enqueues sent, waiting for a fetch worker
    assert sample(samples, "flashflow_queue_messages", queue="fetch", state="waiting") == 3
    assert sample(samples, "flashflow_queue_messages", queue="extract", state="waiting") == 1
    assert 90 <= sample(samples, "flashflow_queue_oldest_message_age_seconds", queue="extract") < 120
    assert sample(samples, "flashflow_reference_videos", status="queued") == 3
    assert sample(samples, "flashflow_scheduler_ticks_total", schedule="expire-assignments") == 1
    assert sample(samples, "flashflow_queue_paused", queue="transcribe") == 1
    assert sample(samples, "flashflow_queue_paused", queue="fetch") == 0
    assert sample(samples, "flashflow_workers_alive") >= 1
    assert sample(samples, "flashflow_redis_up") == 1 and sample(samples, "flashflow_postgres_up") == 1
