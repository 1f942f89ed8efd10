"""Redis goes away under a running `flashflow worker` (a private server this test stops and starts,
never the shared one): `flashflow enqueue` still saves its rows and says so in one line, nothing is
lost, and the rows go through the pipeline within seconds of Redis answering again."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from psycopg.rows import dict_row

from tests.conftest import ROOT
from tests.redis_server import PrivateRedis

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

OUTAGE_S = 6.0


def _env(db_url: str, redis_url: str, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLASHFLOW_")}
    env.update(DATABASE_URL=db_url, REDIS_URL=redis_url, FLASHFLOW_HOME=str(tmp_path / "home"),
               FLASHFLOW_STORAGE_ROOT=str(tmp_path / "storage"), FLASHFLOW_TOOLKIT="instant",
               FLASHFLOW_LOG_FORMAT="json", FLASHFLOW_BROKER_MAINTENANCE_INTERVAL_S="1")
    return env


def _wait(predicate, timeout_s: float, what: str) -> float:
    started = time.monotonic()
    while not predicate():
        assert time.monotonic() - started < timeout_s, f"{what}: not within {timeout_s} s"
        time.sleep(0.2)
    return time.monotonic() - started


def test_enqueue_with_redis_down_loses_nothing(db_url, tmp_path):
    server = PrivateRedis(tmp_path / "redis")
    server.start()
    env = _env(db_url, server.url, tmp_path)
    log_path = tmp_path / "worker.log"
    with open(log_path, "w") as log:
        worker = subprocess.Popen([sys.executable, "-m", "workers.cli", "worker"], cwd=ROOT, env=env,
                                  stdout=log, stderr=log, start_new_session=True)
    try:
        _wait(lambda: '"worker started"' in log_path.read_text(), 60, "the worker started")
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
        events = [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]
        outage = [e for e in events if e["logger"] == "jobs.reconnect"]
        assert outage[0]["event"].endswith("(connection refused); reconnecting")
        assert outage[-1]["event"] == "Redis answers again" and 3 <= len(outage) <= 8, outage
        assert not [e for e in events if e["logger"].startswith("dramatiq.worker") and e["level"] == "critical"]
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait()
        server.stop()
