"""Redis goes away under a running `flashflow worker` (a private server this test stops and starts,
never the shared one): `flashflow enqueue` still saves its rows and says so in one line, nothing is
lost, and the rows go through the pipeline within seconds of Redis answering again."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable

import psycopg
import pytest
from psycopg.rows import dict_row

from tests.conftest import ROOT
from tests.redis_server import PrivateRedis
from tests.workers.processes import Workers, worker_env

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

OUTAGE_S = 6.0


def _wait(predicate: Callable[[], bool], timeout_s: float, what: str) -> float:
    started = time.monotonic()
    while not predicate():
        assert time.monotonic() - started < timeout_s, f"{what}: not within {timeout_s} s"
        time.sleep(0.2)
    return time.monotonic() - started


def test_enqueue_with_redis_down_loses_nothing(db_url, settings, tmp_path):
    server = PrivateRedis(tmp_path / "redis")
    server.start()
    group = Workers(worker_env(settings.model_copy(update={"redis_url": server.url}), tmp_path,
                               FLASHFLOW_TOOLKIT="instant"), tmp_path)
    env = group.env
    worker = group.start()
    try:
        _wait(lambda: '"worker started"' in group.log_of(worker), 60, "the worker started")
        server.stop()
        urls = [f"https://www.tiktok.com/@shop/video/73400000000000000{n}" for n in (1, 2)]
        enqueued = subprocess.run([sys.executable, "-m", "workers.cli", "enqueue", *urls], cwd=ROOT, env=env,
                                  capture_output=True, text=True, timeout=60)
        assert enqueued.returncode == 4, enqueued.stderr
        assert enqueued.stderr.count("\n") == 1 and "Traceback" not in enqueued.stderr
        assert f"cannot reach Redis at 127.0.0.1:{server.port}" in enqueued.stderr
        assert "the 2 new row(s) are saved" in enqueued.stderr
        lines = [line.split("\t") for line in enqueued.stdout.strip().splitlines()]
        assert [(status, result) for _, status, result, *_ in lines] == [("queued", "new")] * 2
        with psycopg.connect(db_url, autocommit=True, row_factory=dict_row) as conn:
            rows = conn.execute("SELECT status, message_owed_since FROM reference_videos").fetchall()
            assert len(rows) == 2 and all(r["status"] == "queued" and r["message_owed_since"] for r in rows)
            time.sleep(OUTAGE_S)
            server.start()
            took = _wait(lambda: [r["status"] for r in conn.execute("SELECT status FROM reference_videos")]
                         == ["ready", "ready"], 60, "both rows ready after Redis came back")
            assert conn.execute("SELECT count(*) AS n FROM reference_videos WHERE message_owed_since IS NOT NULL"
                                ).fetchone()["n"] == 0
        print(f"rows ready {took:.1f} s after Redis came back")
        assert took < 20
        # The outage was logged once, then once per reconnect attempt (1, 2, 4, 5, 5 ... s apart),
        # then the recovery: not two lines per consumer thread every 3 s as Dramatiq does.
        events = [json.loads(line) for line in group.log_of(worker).splitlines() if line.startswith("{")]
        outage = [e for e in events if e["logger"] == "jobs.reconnect"]
        # The first line names the server and why: the stop refuses new connections, and closes or resets
        # those a consumer is waiting on, whichever a thread meets first (refused in most runs).
        first = outage[0]["event"]
        assert first.startswith(f"cannot reach Redis at 127.0.0.1:{server.port} (") and first.endswith("); reconnecting")
        assert "\n" not in first and "Traceback" not in first, first
        assert outage[-1]["event"] == "Redis answers again" and 3 <= len(outage) <= 8, outage
        assert not [e for e in events if e["logger"].startswith("dramatiq.worker") and e["level"] == "critical"]
    finally:
        group.stop_all()
        server.stop()
