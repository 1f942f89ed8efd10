"""Stage limits hold on real parts: real `flashflow worker` processes, yt-dlp against hostile
loopback servers, real stage child processes, real signals. Short limits come from settings.

- Servers that trickle (an HTML page without end; 1 GB announced, sent at one byte a second) fail
  their rows within the fetch limit, saying they timed out, and never get a second connection for
  a row, even while a rescue with quiet_s=1 runs.
- A stage whose memory grows past the cap (a 12,000 x 12,000 pixel video of 400 KB: a
  decompression bomb) is stopped, and the row says so.
- A stage child killed mid-write (as the OOM killer would) leaves no temp files anywhere.
- A worker frozen past its lease (SIGSTOP, as `docker pause` does) and then thawed writes nothing:
  a second worker took the row over and fetched it meanwhile.

The workers here take only the queues a test needs, so no Whisper or OCR model is loaded.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import imageio_ffmpeg
import psycopg
import pytest
from psycopg.rows import dict_row

from tests.conftest import FIXTURES
from tests.media_server import Route
from tests.workers.processes import insert_reference, wait_row

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


def _failed_or_ready(row: dict) -> bool:
    return row["status"] in ("failed", "ready")


def _audit(db_url: str, reference_id: str) -> list[dict]:
    with psycopg.connect(db_url, autocommit=True, row_factory=dict_row) as conn:
        return conn.execute("SELECT event_type, message_id, details, created_at FROM audit_log "
                            "WHERE entity_id = %s ORDER BY created_at, event_type", (reference_id,)).fetchall()


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_trickling_servers_fail_within_the_limit_with_one_connection_per_row(
    workers, media_server, db_url, broker, conn
):
    from jobs.winners import rescue_stuck_references

    page = media_server.add_trickle("watch", b"<html><body>" + b"<p>deal of the day</p>" * 20, bytes_per_s=1,
                                    content_type="text/html", endless=True, send_length=False, chunked=False)
    huge = media_server.add_trickle("huge.mp4", (FIXTURES / "speech_only.mp4").read_bytes(), bytes_per_s=1,
                                    declared_length=10**9)
    group = workers(FLASHFLOW_FETCH_TIMEOUT_S="4", FLASHFLOW_STAGE_LEASE_S="3", FLASHFLOW_FETCH_MAX_FILESIZE_MB="2000")
    group.start(threads=3)
    ids = {insert_reference(db_url, page): "watch", insert_reference(db_url, huge): "huge.mp4"}

    def fetching(row: dict) -> bool:
        return row["status"] == "needs_file" and row["lease_until"] is not None

    for rid in ids:
        wait_row(db_url, rid, fetching, 60, group)
    rescue_stuck_references.send(quiet_s=1)  # while both fetches run, past their first lease
    rows = {rid: wait_row(db_url, rid, _failed_or_ready, 30, group) for rid in ids}

    for rid, path in ids.items():
        row = rows[rid]
        assert row["status"] == "failed", row
        assert row["error_message"].startswith("fetch: timed out"), row["error_message"]
        assert "FLASHFLOW_FETCH_TIMEOUT_S" in row["error_message"]
        started = next(e for e in _audit(db_url, rid) if e["event_type"] == "reference.fetch.started")
        failed = next(e for e in _audit(db_url, rid) if e["event_type"] == "reference.fetch.failed")
        assert (failed["created_at"] - started["created_at"]).total_seconds() < 4 + 1.5, "not within the limit"
        assert media_server.peak_in_flight(path) == 1, f"{path} saw two connections for one row"
        assert media_server.hit_count(path) <= 2, f"{path} was fetched again"  # yt-dlp's look, then the download
        assert row["lease_token"] == 1, "a second attempt claimed the row"
    rescues = conn.execute("SELECT details FROM audit_log WHERE event_type = 'job.rescue_stuck_references'").fetchall()
    assert [r["details"]["resent"] for r in rescues] == [0], "the rescue did not run, or resent a live row"


def _bomb(path: Path, side: int = 12_000) -> Path:
    """A one-second video whose frames are side x side pixels: ~400 KB on disk, ~400 MB to decode."""
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
                    "-f", "lavfi", "-i", f"color=c=blue:s={side}x{side}:d=1:r=1", "-f", "lavfi",
                    "-i", "anullsrc=r=16000:cl=mono", "-t", "1", "-c:v", "libx264", "-preset", "ultrafast",
                    "-c:a", "aac", "-shortest", str(path)], check=True, timeout=120)
    return path


def test_a_stage_past_the_memory_cap_is_stopped_and_the_row_says_so(workers, media_server, db_url, tmp_path):
    bomb = _bomb(media_server.root / "bomb.mp4")
    assert bomb.stat().st_size < 1_000_000
    group = workers(FLASHFLOW_STAGE_MAX_MEMORY_MB="250")
    group.start("--queues", "fetch")  # the cap is below what the transcribe stage's model needs
    rid = insert_reference(db_url, media_server.url("files/bomb.mp4"))
    row = wait_row(db_url, rid, _failed_or_ready, 120, group)
    assert row["status"] == "failed" and row["failed_stage"] == "fetch", row
    assert "memory cap" in row["error_message"] and "FLASHFLOW_STAGE_MAX_MEMORY_MB" in row["error_message"], \
        row["error_message"]
    assert row["lease_token"] == 1, "a memory kill is not retried"

    refused = group.start()  # every queue: Whisper, loaded as the worker starts, needs more than the cap
    assert refused.wait(timeout=120) == 2
    assert "a stage child process could not get ready: it used more than its 250 MB memory cap" \
        in group.log_text()


def _fetched(row: dict) -> bool:
    """The fetch stage is over (the workers of these tests take no other stage)."""
    return row["status"] in ("needs_transcription", "failed") and row["lease_until"] is None


def _trickle_then_serve(media_server, path: str, seconds: float) -> str:
    """The first download of `path` trickles for about `seconds`; the extractor's look before it
    and every request after it get the file at once."""
    video = (FIXTURES / "speech_only.mp4").read_bytes()
    at_once = Route(200, video, {"Content-Type": "video/mp4"})
    slow = Route(200, video, {"Content-Type": "video/mp4"}, trickle_bytes_per_s=len(video) / seconds, fast_bytes=600)
    return media_server.add(path, at_once, slow, at_once)


def test_a_stage_child_killed_mid_write_leaves_no_temp_files(workers, media_server, db_url, settings, tmp_path):
    url = _trickle_then_serve(media_server, "clip.mp4", 30)  # yt-dlp is writing its .part file meanwhile
    temp = tmp_path / "worker-tmp"
    temp.mkdir()
    group = workers(TMPDIR=str(temp))
    worker = group.start("--queues", "fetch")
    rid = insert_reference(db_url, url)
    partial = None
    deadline = time.monotonic() + 60
    while partial is None:
        partial = next((p for p in temp.rglob("*.part") if p.stat().st_size > 0), None)
        assert time.monotonic() < deadline, "the download never started writing\n" + group.tail()
        time.sleep(0.05)
    (child,) = group.stage_children(worker)
    subprocess.run(["kill", "-KILL", str(child)], check=True)  # as the OOM killer would
    row = wait_row(db_url, rid, _fetched, 120, group)

    assert row["status"] == "needs_transcription" and row["lease_token"] == 2, row  # the retry fetched it
    assert "the stage's child process was killed by SIGKILL" in group.log_text()
    assert not partial.exists()
    assert [p.name for p in temp.rglob("*") if p.is_file()] == [], "temp files were left behind"
    assert _files(settings.media_root) == [f"reference/{rid}/a2/video.mp4"], "storage holds more than the row's file"


def test_a_worker_frozen_past_its_lease_writes_nothing_when_thawed(workers, media_server, db_url, broker, settings):
    from jobs.winners import rescue_stuck_references

    url = _trickle_then_serve(media_server, "clip.mp4", 15)  # the first worker is frozen in the middle
    group = workers(FLASHFLOW_STAGE_LEASE_S="3")
    first = group.start("--queues", "fetch", "default")
    rid = insert_reference(db_url, url)
    wait_row(db_url, rid, lambda r: r["status"] == "needs_file" and r["lease_token"] == 1, 60, group)
    time.sleep(1)
    frozen = group.freeze(first)
    time.sleep(4)  # past the lease: nothing renews it
    group.start("--queues", "fetch", "default")
    rescue_stuck_references.send(quiet_s=1)
    done = wait_row(db_url, rid, _fetched, 120, group)
    assert done["status"] == "needs_transcription" and done["lease_token"] == 2, done
    before = _audit(db_url, rid)
    stored = _files(settings.media_root)
    assert stored == [f"reference/{rid}/a2/video.mp4"]

    log_offset = len(group.log_of(first))
    group.thaw(frozen)
    deadline = time.monotonic() + 30
    while not any(words in group.log_of(first)[log_offset:] for words in ('"lease lost"', "another attempt")):
        assert time.monotonic() < deadline, "the thawed worker never found out\n" + group.tail()
        time.sleep(0.1)
    time.sleep(1)  # whatever it would still write, it has had the time to

    with psycopg.connect(db_url, autocommit=True, row_factory=dict_row) as c:
        after = c.execute("SELECT * FROM reference_videos WHERE id = %s", (rid,)).fetchone()
    assert (after["status"], after["lease_token"], after["updated_at"]) == ("needs_transcription", 2,
                                                                            done["updated_at"])
    assert _audit(db_url, rid) == before, "the thawed attempt changed the row's history"
    assert _files(settings.media_root) == stored, "the thawed attempt changed stored files"
