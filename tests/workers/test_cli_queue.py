"""`flashflow queue list|pause|resume`, in process, against real Redis and Postgres."""

from __future__ import annotations

import json

import pytest

from flashflow_core.ops.queue_pause import QueuePauses
from tests.workers.test_cli_dlq import cli  # noqa: F401 - fixture

pytestmark = pytest.mark.timeout(60)


def test_pause_list_resume_are_audited(cli, broker, conn):  # noqa: F811 - fixture
    from jobs.winners import fetch_reference

    fetch_reference.send("00000000-0000-0000-0000-000000000001")
    code, out, _ = cli("queue", "pause", "fetch", "fetch")
    assert (code, out.strip()) == (0, "fetch paused")
    code, out, _ = cli("queue", "pause", "fetch")
    assert (code, out.strip()) == (0, "fetch was paused already")
    assert set(QueuePauses(broker.client, broker.namespace).paused()) == {"fetch"}

    code, out, _ = cli("queue", "list", "--json")
    rows = {row["queue"]: row for row in json.loads(out)}
    assert code == 0 and sorted(rows) == ["default", "extract", "fetch", "transcribe"]
    assert rows["fetch"]["paused"] and rows["fetch"]["paused_by"].startswith("cli:")
    assert rows["fetch"]["waiting"] == 1 and rows["fetch"]["oldest_age_s"] is not None
    assert not rows["default"]["paused"] and rows["default"]["waiting"] == 0
    code, out, _ = cli("queue", "list")
    listed = {fields[0]: fields for fields in (line.split("\t") for line in out.splitlines())}
    assert code == 0 and listed["fetch"][1] == "yes" and listed["fetch"][2] == rows["fetch"]["paused_by"]
    assert listed["fetch"][4] == "1" and listed["default"][1:3] == ["no", ""]

    code, out, _ = cli("queue", "resume", "fetch")
    assert (code, out.strip()) == (0, "fetch resumed")
    code, out, _ = cli("queue", "resume", "fetch")
    assert (code, out.strip()) == (0, "fetch was not paused")
    with pytest.raises(SystemExit) as refused:
        cli("queue", "pause", "nosuch")
    assert refused.value.code == 2

    events = [(r["event_type"], r["entity_id"], r["actor"].startswith("cli:")) for r in conn.execute(
        "SELECT event_type, entity_id, actor FROM audit_log WHERE entity_type = 'queue' ORDER BY created_at")]
    assert events == [("queue.paused", "fetch", True), ("queue.resumed", "fetch", True)]
