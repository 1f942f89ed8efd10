"""The broker's own parts: id/payload fetch, and maintenance that returns a dead worker's messages."""

from __future__ import annotations

import time
import uuid

import pytest

from tests.jobs.test_poison import push

pytestmark = pytest.mark.timeout(60)


def test_fetch_pairs_moves_ids_to_the_ack_set_and_drops_ids_without_payload(broker):
    client, acks = broker.client, f"dramatiq:__acks__.{broker.broker_id}.default"
    first, orphan = str(uuid.uuid4()), str(uuid.uuid4())
    push(client, "default", first, b"payload one")
    push(client, "default", orphan, None)
    assert broker.fetch_pairs("default", 10) == [(first, b"payload one"), (orphan, None)]
    assert {m.decode() for m in client.smembers(acks)} == {first}
    assert client.llen("dramatiq:default") == 0
    assert client.zscore("dramatiq:__heartbeats__", broker.broker_id) is not None


def test_maintain_returns_only_dead_workers_messages(broker):
    client = broker.client
    now_ms = int(time.time() * 1000)
    dead, alive = "worker-killed", "worker-alive"
    client.zadd("dramatiq:__heartbeats__", {dead: now_ms - broker.heartbeat_timeout - 1000, alive: now_ms})
    for worker_id in (dead, alive):
        rid = f"{worker_id}-msg"
        client.hset("dramatiq:transcribe.msgs", rid, b"{}")
        client.sadd(f"dramatiq:__acks__.{worker_id}.transcribe", rid)

    broker.maintain("transcribe")

    assert [m.decode() for m in client.lrange("dramatiq:transcribe", 0, -1)] == ["worker-killed-msg"]
    assert not client.exists(f"dramatiq:__acks__.{dead}.transcribe")
    assert client.sismember(f"dramatiq:__acks__.{alive}.transcribe", "worker-alive-msg")
    assert client.zscore("dramatiq:__heartbeats__", dead) is None  # forgotten once its acks are back


def test_worker_heartbeat_touches_the_health_file_and_beats(broker, settings):
    from dramatiq import Worker

    health = settings.worker_health_file
    assert not health.exists()
    worker = Worker(broker, queues={"default"}, worker_threads=1, worker_timeout=100)
    worker.start()
    try:
        deadline = time.monotonic() + 10
        while not health.exists():
            assert time.monotonic() < deadline, "no health file"
            time.sleep(0.05)
    finally:
        worker.stop()
    assert time.time() - health.stat().st_mtime < 10
    assert broker.client.zscore("dramatiq:__heartbeats__", broker.broker_id) is not None


def test_boot_gives_each_stage_actor_the_time_limit_of_its_settings(settings):
    from jobs import runtime
    from jobs.boot import boot

    booted = boot(settings.model_copy(update={"fetch_timeout_s": 5.0, "transcribe_timeout_s": 7.0}))
    try:
        limits = {name: booted.actors[name].options["time_limit"]
                  for name in ("fetch_reference", "transcribe_reference", "extract_reference")}
    finally:
        runtime.current().close()
        booted.broker.close()
    assert limits == {"fetch_reference": 65_000, "transcribe_reference": 67_000, "extract_reference": 660_000}
