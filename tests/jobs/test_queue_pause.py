"""Pausing a queue: real workers on real Redis take none of its messages, also after a restart,
until it is resumed; other queues keep running."""

from __future__ import annotations

import time

import dramatiq
import pytest
from dramatiq import Worker

from flashflow_core.ops.queue_pause import QueuePauses

pytestmark = pytest.mark.timeout(60)


def _wait(predicate, timeout_s: float = 10) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_paused_queue_waits_across_worker_restarts_until_resumed(broker):
    ran: list[str] = []
    on_default = dramatiq.actor(lambda label: ran.append(label), actor_name="test_paused_default",
                                queue_name="default", broker=broker)
    on_extract = dramatiq.actor(lambda label: ran.append(label), actor_name="test_paused_extract",
                                queue_name="extract", broker=broker)
    pauses = QueuePauses(broker.client, broker.namespace)
    try:
        assert pauses.pause("default", "test:me") is True
        assert pauses.pause("default", "test:other") is False  # the first pause is kept
        assert pauses.paused()["default"].by == "test:me"
        on_default.send("waited")
        on_default.send_with_options(args=("delayed",), delay=100)
        on_extract.send("ran")
        for _ in range(2):  # a worker, then a fresh one as after a restart
            worker = Worker(broker, queues={"default", "extract"}, worker_threads=1, worker_timeout=100)
            worker.start()
            try:
                _wait(lambda: "ran" in ran)
                time.sleep(1.5)  # many fetch rounds at worker_timeout=100 ms
                assert ran == ["ran"]
                assert broker.client.zscore(broker.keys.heartbeats, broker.broker_id) is not None
            finally:
                worker.stop()
        assert broker.client.llen(broker.keys.queue("default")) == 1
        assert broker.client.hlen(broker.keys.messages("default.DQ")) == 1

        worker = Worker(broker, queues={"default", "extract"}, worker_threads=1, worker_timeout=100)
        worker.start()
        try:
            assert pauses.resume("default") is True
            assert pauses.resume("default") is False
            _wait(lambda: sorted(ran) == ["delayed", "ran", "waited"])
        finally:
            worker.stop()
        assert pauses.paused() == {}
    finally:
        broker.actors.pop(on_default.actor_name, None)
        broker.actors.pop(on_extract.actor_name, None)
