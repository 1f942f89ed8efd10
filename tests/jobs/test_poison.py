"""Poison messages never wedge a worker: 100 good messages mixed with malformed ones of every
kind, pushed the way a producer without Python would, all on the real Redis broker."""

from __future__ import annotations

import json
import logging
import random
import time
import uuid

import dramatiq
import pytest
import redis
from dramatiq import Worker
from pydantic import BaseModel, ValidationError

pytestmark = pytest.mark.timeout(180)

NS = "dramatiq"


def envelope(actor: str, kwargs: dict, rid: str, queue: str = "default", **changes) -> dict:
    body = {"queue_name": queue, "actor_name": actor, "args": [], "kwargs": kwargs,
            "options": {"redis_message_id": rid}, "message_id": str(uuid.uuid4()),
            "message_timestamp": int(time.time() * 1000)}
    body.update(changes)
    return body


def push(client: redis.Redis, queue: str, rid: str, data: bytes | str | None) -> None:
    with client.pipeline(transaction=True) as pipe:
        if data is not None:
            pipe.hset(f"{NS}:{queue}.msgs", rid, data)
        pipe.rpush(f"{NS}:{queue}", rid)
        pipe.execute()


def poison_messages() -> list[tuple[str, str, bytes | None, str]]:
    """(kind, redis id, payload, words the recorded reason must contain) for every way to be wrong."""
    cases = []

    def add(kind: str, data, expect: str, rid: str | None = None) -> None:
        rid = rid or str(uuid.uuid4())
        payload = data(rid) if callable(data) else data
        if isinstance(payload, dict):
            payload = json.dumps(payload).encode()
        cases.append((kind, rid, payload, expect))

    good = {"url": "https://www.tiktok.com/@poison/video/7100000000000000001"}
    add("bad_json", b'{"queue_name": "default", "actor_name": ', "not valid JSON")
    add("bad_json", b"\xff\xfe\x00garbage", "not UTF-8")
    add("bad_json", b"[" * 100_000, "nested too deeply")
    add("bad_envelope", b"[1, 2, 3]", "JSON list, not an object")
    add("bad_envelope", lambda rid: {**envelope("enqueue_reference", good, rid), "priority": 5},
        "unexpected top-level field 'priority'")
    add("bad_envelope", lambda rid: {k: v for k, v in envelope("enqueue_reference", good, rid).items()
                                     if k != "message_timestamp"}, "missing field 'message_timestamp'")
    add("bad_envelope", lambda rid: envelope("enqueue_reference", good, rid, args="abc"), "args")
    add("bad_envelope", lambda rid: envelope("enqueue_reference", good, rid, options={}),
        "missing field 'options.redis_message_id'")
    add("id_mismatch", lambda rid: envelope("enqueue_reference", good, "not-" + rid), "must be equal")
    add("wrong_queue", lambda rid: envelope("enqueue_reference", good, rid, queue="fetch"),
        "was pushed on 'default'")
    add("unknown_actor", lambda rid: envelope("enqueue_referense", good, rid), "no actor named 'enqueue_referense'")
    add("wrong_queue", lambda rid: envelope("fetch_reference", {"reference_id": str(uuid.uuid4())}, rid),
        "runs on queue 'fetch'")
    add("invalid_arguments", lambda rid: envelope("enqueue_reference", {}, rid), "missing a required argument: 'url'")
    add("invalid_arguments", lambda rid: envelope("enqueue_reference", {**good, "colour": "red"}, rid),
        "unexpected keyword argument 'colour'")
    add("invalid_arguments", lambda rid: envelope("enqueue_reference", {"url": "x" * 3000}, rid),
        "url: String should have at most 2048 characters")
    add("invalid_arguments", lambda rid: envelope("rescue_stuck_references", {"batch": "many"}, rid),
        "batch: Input should be a valid integer")
    add("missing_payload", None, "has no payload")
    return cases


class _Payload(BaseModel):
    n: int


@pytest.fixture
def failing_actor(broker):
    """An actor whose own validation always fails at run time (after the consumer's checks)."""

    def always_invalid(n: int) -> None:
        _Payload(n="not a number")

    actor = dramatiq.actor(always_invalid, actor_name="test_always_invalid", queue_name="default",
                           throws=(ValidationError,), max_retries=0, broker=broker)
    yield actor
    broker.actors.pop(actor.actor_name, None)


def test_hundred_good_messages_run_at_once_around_every_kind_of_poison(broker, conn, failing_actor, caplog):
    caplog.set_level(logging.WARNING)
    client = broker.client
    good = [(str(uuid.uuid4()), f"https://www.tiktok.com/@poison/video/{7200000000000000000 + n}") for n in range(100)]
    poison = poison_messages()
    runtime_failure = str(uuid.uuid4())
    items = [("good", rid, json.dumps(envelope("enqueue_reference", {"url": url, "submitted_by": "producer"}, rid)))
             for rid, url in good]
    items += [(kind, rid, data) for kind, rid, data, _ in poison]
    items.append(("not_retried", runtime_failure, json.dumps(envelope("test_always_invalid", {"n": 1},
                                                                      runtime_failure))))
    random.Random(5).shuffle(items)
    for _, rid, data in items:
        push(client, "default", rid, data)

    worker = Worker(broker, queues={"default"}, worker_threads=4, worker_timeout=100)
    started = time.monotonic()
    worker.start()
    try:
        while conn.execute("SELECT count(*) AS n FROM reference_videos").fetchone()["n"] < 100:
            assert time.monotonic() - started < 60, "the good messages did not all run"
            time.sleep(0.2)
        elapsed = time.monotonic() - started
        deadline = time.monotonic() + 20
        while client.llen(f"{NS}:default") or client.hlen(f"{NS}:default.msgs"):
            assert time.monotonic() < deadline, "messages were left on the queue or in an ack set"
            time.sleep(0.1)
    finally:
        worker.stop()

    # Without the guard each poison payload costs a 3 s consumer restart and strands its batch.
    assert elapsed < 30, f"100 good messages took {elapsed:.1f} s"
    rows = conn.execute("SELECT url, submitted_by FROM reference_videos").fetchall()
    assert sorted(r["url"] for r in rows) == sorted(url for _, url in good)
    assert {r["submitted_by"] for r in rows} == {"producer"}

    dead = {rid.decode() for rid in client.zrange(f"{NS}:default.XQ", 0, -1)}
    expected_dead = {rid for kind, rid, _, _ in poison if kind != "missing_payload"} | {runtime_failure}
    assert dead == expected_dead
    for rid in expected_dead:
        assert client.hexists(f"{NS}:default.XQ.msgs", rid)
    acks = [key for key in client.scan_iter(match=f"{NS}:__acks__.*") if client.scard(key)]
    assert acks == [], "ids were left in an ack set"

    audit = {r["entity_id"]: r for r in conn.execute(
        "SELECT entity_id, summary, details FROM audit_log WHERE event_type = 'message.dead_lettered'")}
    assert set(audit) == expected_dead | {rid for kind, rid, _, _ in poison if kind == "missing_payload"}
    for kind, rid, _, expect in poison:
        assert audit[rid]["details"]["kind"] == kind, (kind, audit[rid]["details"])
        assert expect in audit[rid]["details"]["reason"], (expect, audit[rid]["details"]["reason"])
        assert audit[rid]["details"]["queue"] == "default"
    failure = audit[runtime_failure]["details"]
    assert failure["kind"] == "not_retried" and "ValidationError" in failure["reason"]
    assert failure["actor_name"] == "test_always_invalid"
    assert not [r for r in caplog.records if "Consumer encountered" in r.getMessage()]


def test_a_poison_message_in_the_delay_queue_goes_to_the_queue_dead_letters(broker, conn):
    rid = str(uuid.uuid4())
    push(broker.client, "default.DQ", rid, b"not json at all")
    worker = Worker(broker, queues={"default"}, worker_threads=1, worker_timeout=100)
    worker.start()
    try:
        deadline = time.monotonic() + 15
        while not broker.client.zscore(f"{NS}:default.XQ", rid):
            assert time.monotonic() < deadline
            time.sleep(0.1)
    finally:
        worker.stop()
    assert not broker.client.hexists(f"{NS}:default.DQ.msgs", rid)
    row = conn.execute("SELECT details FROM audit_log WHERE entity_id = %s", (rid,)).fetchone()
    assert row["details"]["kind"] == "bad_json"
