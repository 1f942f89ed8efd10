"""Crash recovery with the real `flashflow worker` in a subprocess, SIGKILLed mid-transcription
(as an OOM kill would): the work resumes on a new worker within 90 s, and a video that kills its
worker three times ends `failed` with the crashes counted in Postgres.

The row comes in the way the web app's admin page adds one: a plain INSERT, no message.
"""

from __future__ import annotations

import shutil
import time

import pytest

from tests.conftest import FIXTURES
from tests.workers.processes import insert_reference, wait_row

pytestmark = [pytest.mark.slow, pytest.mark.timeout(400)]


def transcribing(crashes: int):
    return lambda row: (row["status"] == "needs_transcription" and row["lease_message_id"] is not None
                        and row["crash_count"] == crashes)


def serve(media_server) -> str:
    shutil.copy(FIXTURES / "speech_only.mp4", media_server.root / "speech.mp4")
    return media_server.url("files/speech.mp4")


def test_killed_mid_transcription_resumes_and_finishes(workers, media_server, db_url):
    group = workers(FLASHFLOW_HEARTBEAT_TIMEOUT_S="3")
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
    group = workers(FLASHFLOW_HEARTBEAT_TIMEOUT_S="3")
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
    group = workers()  # Dramatiq's 60 s
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
