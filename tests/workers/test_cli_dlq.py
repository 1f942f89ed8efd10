"""`flashflow dlq list|show|requeue|purge`, in process, on dead letters a real worker made."""

from __future__ import annotations

import io
import json
import logging
import time
import uuid

import dramatiq
import pytest
from dramatiq import Worker
from rich.console import Console

from tests.jobs.test_poison import envelope, push
from workers.cli import main

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def cli(settings, monkeypatch, capsys):
    """Run `flashflow ARGS` in process; returns (exit code, stdout, stderr)."""
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("REDIS_URL", settings.redis_url)
    monkeypatch.setenv("FLASHFLOW_LOG_FORMAT", "text")

    def run(*args: str) -> tuple[int, str, str]:
        out = io.StringIO()
        capsys.readouterr()
        handlers = logging.getLogger().handlers[:]
        try:
            code = main(list(args), console=Console(file=out, width=300, highlight=False))
        finally:  # main() points logging at this test's captured stderr; the worker outlives it
            logging.getLogger().handlers[:] = handlers
        return code, out.getvalue(), capsys.readouterr().err

    return run


@pytest.fixture
def running_worker(broker):
    worker = Worker(broker, queues={"default"}, worker_threads=1, worker_timeout=100)
    worker.start()
    yield worker
    worker.stop()


def wait_dead(broker, rids: list[str], timeout_s: float = 15) -> None:
    deadline = time.monotonic() + timeout_s
    while not all(broker.client.zscore("dramatiq:default.XQ", rid) for rid in rids):
        assert time.monotonic() < deadline, "not dead-lettered"
        time.sleep(0.05)


def test_list_show_requeue_and_purge(cli, broker, running_worker, conn):
    late, bad = "feed" + str(uuid.uuid4())[4:], "feed" + str(uuid.uuid4())[4:]  # ids sharing a prefix
    # A job sent before the workers that know its actor were deployed, and a payload that is not JSON.
    push(broker.client, "default", late, json.dumps(envelope("test_deployed_late", {"label": "x"}, late)))
    push(broker.client, "default", bad, b"{oops")
    wait_dead(broker, [late, bad])

    code, out, _ = cli("dlq", "list")  # piped: one tab-separated line per message, full values
    assert code == 0
    lines = {fields[1]: fields for fields in (line.split("\t") for line in out.splitlines())}
    assert set(lines) == {late, bad} and all(len(fields) == 5 for fields in lines.values())
    assert lines[late][0] == "default" and lines[late][3] == "test_deployed_late"
    assert lines[late][4].startswith("no actor named 'test_deployed_late'") and "…" not in out
    assert lines[bad][3] == "" and "not valid JSON" in lines[bad][4]

    code, out, _ = cli("dlq", "list", "--json", "--queue", "default")
    listed = {entry["id"]: entry for entry in json.loads(out)}
    assert set(listed) == {late, bad}
    assert listed[late]["actor_name"] == "test_deployed_late" and listed[bad]["actor_name"] is None
    assert listed[late]["reason"] == lines[late][4] and listed[late]["dead_at"] == lines[late][2]

    code, _, err = cli("dlq", "show", "feed")
    assert code == 2 and "starts 2 message ids" in err and late in err and bad in err
    code, out, _ = cli("dlq", "show", late[:13])  # a unique prefix is enough
    assert code == 0 and '"label": "x"' in out and "reason:" in out and "queue:     default" in out
    assert f"id:        {late}" in out
    code, _, err = cli("dlq", "show", "no-such-id")
    assert code == 3 and "no message 'no-such-id'" in err
    code, _, err = cli("dlq", "show", "")
    assert code == 3

    ran = []
    actor = dramatiq.actor(lambda label: ran.append(label), actor_name="test_deployed_late", queue_name="default",
                           broker=broker)
    try:
        code, out, _ = cli("dlq", "requeue", late)
        assert code == 0 and f"requeued {late} on default" in out
        deadline = time.monotonic() + 10
        while not ran:
            assert time.monotonic() < deadline, "the requeued message did not run"
            time.sleep(0.05)
    finally:
        broker.actors.pop(actor.actor_name, None)
    assert ran == ["x"]
    assert broker.client.zscore("dramatiq:default.XQ", late) is None

    code, _, err = cli("dlq", "requeue", bad)
    assert code == 1 and "is not a JSON object" in err
    code, _, err = cli("dlq", "requeue")
    assert code == 2 and "give message ids or --all" in err

    code, _, err = cli("dlq", "purge", "--all", "--queue", "default")  # nobody at a terminal to confirm
    assert code == 2 and "pass --yes" in err and broker.client.zcard("dramatiq:default.XQ") == 1
    code, out, _ = cli("dlq", "purge", "--all", "--queue", "default", "--yes")
    assert code == 0 and "purged 1 message(s)" in out
    assert broker.client.zcard("dramatiq:default.XQ") == 0
    code, out, _ = cli("dlq", "list")
    assert (code, out) == (0, "")  # piped and empty: nothing to parse

    events = {(r["event_type"], r["entity_id"]) for r in conn.execute(
        "SELECT event_type, entity_id FROM audit_log WHERE event_type IN ('message.requeued', 'message.purged')")}
    assert events == {("message.requeued", late), ("message.purged", bad)}
