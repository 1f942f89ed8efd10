"""Faults under a running `flashflow worker` (a real process), each on servers or filesystems of the
test's own, never the shared ones other test sessions use: Redis restarted (its data gone),
Postgres restarted mid-stage, storage full and storage read-only. Each test says what happens and
measures how long the row takes to recover (printed; docs/operations.md records the figures).

Storage faults run the worker in a user and mount namespace of its own (`unshare --user
--map-root-user --mount`, unprivileged where the kernel allows user namespaces) with its storage
on a 16 KB tmpfs (really full: ENOSPC) or bind-mounted read-only (EROFS); `nsenter` later gives
the storage room again, as an operator would, and `flashflow retry` finishes the row.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, ROOT
from tests.redis_server import PrivateRedis
from tests.workers.processes import Workers, insert_reference, wait_row, worker_env

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


def _serve(media_server, name: str = "hook_speech_text.mp4") -> str:
    shutil.copy(FIXTURES / name, media_server.root / name)
    return media_server.url(f"files/{name}")


def _transcribing(row: dict) -> bool:
    return row["status"] == "needs_transcription" and row["lease_until"] is not None


def _done(row: dict) -> bool:
    return row["status"] in ("ready", "failed")


def _report(capsys, what: str, seconds: float) -> None:
    with capsys.disabled():
        print(f"\n{what}: {seconds:.1f} s")


def test_redis_restarted_mid_stage_the_row_still_finishes(settings, media_server, db_url, tmp_path, capsys):
    private_redis = PrivateRedis(tmp_path / "private-redis", unix_socket=True)  # keeps its address across the restart
    private_redis.start()
    group = Workers(worker_env(settings, tmp_path, REDIS_URL=private_redis.url), tmp_path)
    try:
        group.start()
        rid = insert_reference(db_url, _serve(media_server))
        wait_row(db_url, rid, _transcribing, 120, group)
        private_redis.stop()  # no persistence: every queue, ack set and heartbeat is gone
        private_redis.start()
        restarted = time.monotonic()
        row = wait_row(db_url, rid, _done, 120, group)
        _report(capsys, "Redis restarted mid-transcription: ready after", time.monotonic() - restarted)
    finally:
        group.stop_all()
        private_redis.stop()
    assert row["status"] == "ready", row
    assert row["lease_token"] == 3, "a stage ran twice"  # fetch, transcribe, extract: once each


def test_postgres_restarted_mid_stage_the_row_still_finishes(private_postgres, settings, media_server, tmp_path,
                                                              capsys):
    group = Workers(worker_env(settings, tmp_path, DATABASE_URL=private_postgres.url), tmp_path)
    try:
        group.start()
        rid = insert_reference(private_postgres.url, _serve(media_server))
        wait_row(private_postgres.url, rid, _transcribing, 120, group)
        private_postgres.restart()  # fast shutdown: every open session ends
        restarted = time.monotonic()
        row = wait_row(private_postgres.url, rid, _done, 180, group)
        _report(capsys, "Postgres restarted mid-transcription: ready after", time.monotonic() - restarted)
        with capsys.disabled():
            print(f"  stage attempts (lease tokens) for 3 stages: {row['lease_token']}")
    finally:
        group.stop_all()
    assert row["status"] == "ready", row


def _user_namespaces_work() -> bool:
    try:
        return subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "true"],
                              capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


# Mount the storage as the fault wants it, inside the worker's own namespaces, then run the worker.
_MOUNTS = {
    "full": 'mount -t tmpfs -o size=16k flashflow-full "$FLASHFLOW_STORAGE_ROOT"',
    "read-only": 'mount --bind "$FLASHFLOW_STORAGE_ROOT" "$FLASHFLOW_STORAGE_ROOT" && '
                 'mount -o remount,bind,ro "$FLASHFLOW_STORAGE_ROOT"',
}
_REMEDIES = {"full": "mount -o remount,size=64m {root}", "read-only": "mount -o remount,bind,rw {root}"}
_ERRORS = {"full": "No space left on device", "read-only": "Read-only file system"}


@pytest.mark.skipif(not _user_namespaces_work(), reason="user namespaces are not available here (unshare "
                    "--user --map-root-user fails): the storage faults need a filesystem of the test's own")
@pytest.mark.parametrize("fault", ["full", "read-only"])
def test_storage_that_refuses_writes_fails_the_row_cleanly_and_retry_finishes_it(
    fault, settings, media_server, db_url, tmp_path, capsys
):
    root = settings.media_root
    root.mkdir(parents=True, exist_ok=True)
    env = worker_env(settings, tmp_path, FLASHFLOW_STAGE_MAX_RETRIES="1")
    group = Workers(env, tmp_path)
    try:
        worker = group.start(wrap=("unshare", "--user", "--map-root-user", "--mount", "sh", "-c",
                                   _MOUNTS[fault] + ' && exec "$@"', "sh"))
        rid = insert_reference(db_url, _serve(media_server, "speech_only.mp4"))
        row = wait_row(db_url, rid, _done, 120, group)
        assert (row["status"], row["failed_stage"]) == ("failed", "fetch"), row
        assert row["error_message"].startswith("fetch: gave up after 2 attempts: the storage refused to write "
                                               f"reference/{rid}/a2/video.mp4: {_ERRORS[fault]}"), row["error_message"]
        seen = Path(f"/proc/{worker.pid}/root") / str(root).lstrip("/")  # the storage as the worker sees it
        assert [p for p in seen.rglob("*") if p.is_file()] == [], "a partial file was left in storage"

        subprocess.run(["nsenter", "--target", str(worker.pid), "--user", "--mount", "--preserve-credentials",
                        "sh", "-c", _REMEDIES[fault].format(root=root)], check=True, timeout=30)
        retried = time.monotonic()
        subprocess.run([sys.executable, "-m", "workers.cli", "retry", rid], cwd=ROOT, check=True, timeout=60,
                       env={**env, "FLASHFLOW_LOG_FORMAT": "text"}, capture_output=True)
        row = wait_row(db_url, rid, lambda r: r["status"] == "ready", 120, group)
        _report(capsys, f"storage {fault}, then given room: ready after `flashflow retry` in",
                time.monotonic() - retried)
        assert row["status"] == "ready", row
        assert sorted(p.name for p in seen.rglob("*") if p.is_file()) == ["audio.wav", "transcript.json",
                                                                           "video.mp4"]
    finally:
        group.stop_all()
    if fault == "full":
        assert os.listdir(root) == [], "the worker's filesystem leaked out of its namespace"
