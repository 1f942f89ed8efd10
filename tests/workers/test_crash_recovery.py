"""Crash recovery with the real `flashflow worker` in a subprocess, SIGKILLed mid-transcription
(as an OOM kill would): the work resumes on a new worker within 90 s, and a video that kills its
worker three times ends `failed` with the crashes counted in Postgres.

The row comes in the way the web app's admin page adds one: a plain INSERT, no message.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from psycopg.rows import dict_row

from tests.conftest import FIXTURES, ROOT

pytestmark = [pytest.mark.slow, pytest.mark.timeout(400)]


class Workers:
    """Starts `flashflow worker` processes and kills them like the kernel's OOM killer would."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env = env
        self.logs = logs
        self.procs: list[subprocess.Popen] = []

    def start(self) -> subprocess.Popen:
        log = open(self.logs / f"worker-{len(self.procs)}.log", "wb")  # noqa: SIM115 - closed by the process
        proc = subprocess.Popen([sys.executable, "-m", "workers.cli", "worker", "--threads", "1"], cwd=ROOT,
                                env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        self.procs.append(proc)
        return proc

    def kill(self, proc: subprocess.Popen) -> float:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        return time.monotonic()

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

    def tail(self) -> str:
        return "\n".join(f"--- {p.name}\n" + p.read_text(errors="replace")[-3000:]
                         for p in sorted(self.logs.glob("worker-*.log")))


@pytest.fixture
def workers(settings, tmp_path: Path):
    def make(heartbeat_timeout_s: int | None) -> Workers:
        env = {k: v for k, v in os.environ.items() if not k.startswith("FLASHFLOW_")}
        env.update({
            "DATABASE_URL": settings.database_url, "REDIS_URL": settings.redis_url,
            "FLASHFLOW_HOME": str(tmp_path / "home"), "FLASHFLOW_STORAGE_ROOT": str(tmp_path / "storage"),
            "FLASHFLOW_FETCH_ALLOW_HOSTS": "127.0.0.1", "FLASHFLOW_LOG_FORMAT": "json",
            "FLASHFLOW_BROKER_MAINTENANCE_INTERVAL_S": "1",
        })
        if heartbeat_timeout_s is not None:
            env["FLASHFLOW_HEARTBEAT_TIMEOUT_S"] = str(heartbeat_timeout_s)
        made.append(Workers(env, tmp_path))
        return made[-1]

    made: list[Workers] = []
    yield make
    for group in made:
        group.stop_all()


def insert_reference(db_url: str, url: str) -> str:
    with psycopg.connect(db_url, autocommit=True) as conn:
        return str(conn.execute("INSERT INTO reference_videos (url, submitted_by) VALUES (%s, 'admin-page') "
                                "RETURNING id", (url,)).fetchone()[0])


def wait_row(db_url: str, reference_id: str, ready, timeout_s: float, workers: Workers) -> dict:
    deadline = time.monotonic() + timeout_s
    with psycopg.connect(db_url, autocommit=True, row_factory=dict_row) as conn:
        while True:
            row = conn.execute("SELECT * FROM reference_videos WHERE id = %s", (reference_id,)).fetchone()
            if ready(row):
                return row
            if time.monotonic() > deadline:
                pytest.fail(f"row stayed {row['status']} (crashes {row['crash_count']}, error "
                            f"{row['error_message']!r})\n{workers.tail()}")
            time.sleep(0.05)


def transcribing(crashes: int):
    return lambda row: (row["status"] == "needs_transcription" and row["lease_message_id"] is not None
                        and row["crash_count"] == crashes)


def serve(media_server) -> str:
    shutil.copy(FIXTURES / "speech_only.mp4", media_server.root / "speech.mp4")
    return media_server.url("files/speech.mp4")


def test_killed_mid_transcription_resumes_and_finishes(workers, media_server, db_url):
    group = workers(heartbeat_timeout_s=3)
    first = group.start()
    reference_id = insert_reference(db_url, serve(media_server))
    wait_row(db_url, reference_id, transcribing(0), 120, group)
    killed_at = group.kill(first)
    group.start()
    resumed = wait_row(db_url, reference_id, lambda r: r["crash_count"] == 1 or r["status"] != "needs_transcription",
                       90, group)
    recovery_s = time.monotonic() - killed_at
    assert resumed["crash_count"] == 1, "the redelivered message was not counted as a crash"
    assert recovery_s < 90
    done = wait_row(db_url, reference_id, lambda r: r["status"] in ("ready", "failed"), 180, group)
    assert done["status"] == "ready", done["error_message"]


def test_a_video_that_kills_its_worker_three_times_fails(workers, media_server, db_url, conn):
    group = workers(heartbeat_timeout_s=3)
    reference_id = insert_reference(db_url, serve(media_server))
    for crashes in range(3):
        proc = group.start()
        wait_row(db_url, reference_id, transcribing(crashes), 120, group)
        group.kill(proc)
    group.start()
    row = wait_row(db_url, reference_id, lambda r: r["status"] == "failed", 120, group)
    assert row["crash_count"] == 3 and row["failed_stage"] == "transcribe"
    assert "stopped its worker 3 times" in row["error_message"]
    events = conn.execute("SELECT event_type, details FROM audit_log WHERE entity_id = %s ORDER BY created_at",
                          (reference_id,)).fetchall()
    # Each claim after a crash is audited with the crash count so far.
    assert [e["details"]["crashes"] for e in events if e["event_type"] == "reference.transcribe.started"] == [1, 2, 3]
    assert events[-1]["event_type"] == "reference.transcribe.failed"


def test_recovery_with_the_default_heartbeat_timeout_is_under_90_s(workers, media_server, db_url, capsys):
    group = workers(heartbeat_timeout_s=None)  # Dramatiq's 60 s
    first = group.start()
    reference_id = insert_reference(db_url, serve(media_server))
    wait_row(db_url, reference_id, transcribing(0), 120, group)
    killed_at = group.kill(first)
    group.start()
    wait_row(db_url, reference_id, lambda r: r["crash_count"] == 1, 120, group)
    recovery_s = time.monotonic() - killed_at
    with capsys.disabled():
        print(f"\nrecovery after SIGKILL with the default 60 s heartbeat timeout: {recovery_s:.1f} s")
    # The dead worker's last heartbeat came at most a second or so before the kill.
    assert 55 <= recovery_s < 90
