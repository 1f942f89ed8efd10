"""Every log line written while a message runs carries actor, message_id, queue, the message's
*_id arguments and, when the message belongs to a run, its correlation_id (never the message id),
as one JSON object per line."""

from __future__ import annotations

import io
import json
import logging
import time

import dramatiq
import pytest
from dramatiq import Worker

from flashflow_core.logs import JsonFormatter

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def json_lines():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    level = root.level
    root.setLevel(logging.INFO)
    yield stream
    root.removeHandler(handler)
    root.setLevel(level)


def test_log_lines_inside_a_message_carry_its_context(broker, json_lines):
    log = logging.getLogger("tests.actor")
    done = []

    def logs_something(reference_id: str, note: str) -> None:
        log.info("working on it", extra={"step": "one"})
        log.info("explicit fields win", extra={"reference_id": "given-explicitly"})
        done.append(reference_id)

    actor = dramatiq.actor(logs_something, actor_name="test_logs_something", queue_name="default", broker=broker)
    try:
        message = actor.send_with_options(args=("ref-123",), kwargs={"note": "n"}, correlation_id="corr-9")
        actor.send_with_options(args=("ref-456",), kwargs={"note": "no run"})
        worker = Worker(broker, queues={"default"}, worker_threads=1, worker_timeout=100)
        worker.start()
        try:
            deadline = time.monotonic() + 10
            while len(done) < 2:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        finally:
            worker.stop()
    finally:
        broker.actors.pop(actor.actor_name, None)
    log.info("outside any message")

    lines = [json.loads(line) for line in json_lines.getvalue().splitlines()]
    [working, alone] = sorted((e for e in lines if e["event"] == "working on it"), key=lambda e: e["reference_id"])
    assert working["actor"] == "test_logs_something" and working["queue"] == "default"
    assert working["message_id"] == message.message_id and working["correlation_id"] == "corr-9"
    assert working["reference_id"] == "ref-123" and working["step"] == "one"
    assert alone["reference_id"] == "ref-456" and "correlation_id" not in alone
    assert alone["message_id"] not in (None, message.message_id)
    [explicit, _] = [e for e in lines if e["event"] == "explicit fields win"]
    assert explicit["reference_id"] == "given-explicitly" and explicit["actor"] == "test_logs_something"
    [outside] = [e for e in lines if e["event"] == "outside any message"]
    assert "actor" not in outside and "message_id" not in outside
