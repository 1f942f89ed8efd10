"""The Winners Bank through real Dramatiq workers on real Redis and Postgres, with real yt-dlp
against a loopback server, real faster-whisper on base, real rapidocr and the offline extractor."""

from __future__ import annotations

import re
import shutil

import pytest

from flashflow_core.winners.submit import ReferenceSubmission
from tests.conftest import FIXTURES, drain

pytestmark = pytest.mark.timeout(600)


def _serve(media_server, name: str) -> str:
    shutil.copy(FIXTURES / name, media_server.root / name)
    return media_server.url(f"files/{name}")


def _enqueue(url: str) -> str:
    from jobs.winners import enqueue_submission

    return str(enqueue_submission(ReferenceSubmission(url=url, submitted_by="test")).id)


def _row(conn, reference_id: str) -> dict:
    return conn.execute("SELECT * FROM reference_videos WHERE id = %s", (reference_id,)).fetchone()


def _assets(conn, reference_id: str) -> list[dict]:
    return conn.execute(
        "SELECT asset_type, storage_path, transcript_text FROM reference_assets "
        "WHERE reference_video_id = %s ORDER BY asset_type", (reference_id,)
    ).fetchall()


def test_video_with_speech_and_text_reaches_ready(broker, worker, media_server, conn, settings):
    reference_id = _enqueue(_serve(media_server, "hook_speech_text.mp4"))
    drain(broker, worker)

    row = _row(conn, reference_id)
    assert row["status"] == "ready", row["error_message"]
    assets = {a["asset_type"]: a for a in _assets(conn, reference_id)}
    assert sorted(assets) == ["audio", "mp4", "transcript"]
    for asset in assets.values():
        assert (settings.media_root / asset["storage_path"]).is_file()
        assert reference_id in asset["storage_path"]
    transcript = assets["transcript"]["transcript_text"].lower()
    assert "stop scrolling" in transcript and "dry skin" in transcript

    extract = conn.execute("SELECT * FROM reference_extracts WHERE reference_video_id = %s",
                           (reference_id,)).fetchone()
    # Words, not punctuation: base writes "Stop scrolling, if you have dry skin."
    assert re.findall(r"[a-z']+", extract["spoken_hook"].lower()) == "stop scrolling if you have dry skin".split()
    assert "DRY SKIN FIX" in (extract["on_screen_hook"] or "").upper()
    assert "get yours" in extract["cta"].lower() and not extract["cta"].lower().startswith("stop")
    assert extract["hook_family"] == "pattern_interrupt"
    assert 0 <= extract["quality_score"] <= 100

    events = conn.execute(
        "SELECT event_type, correlation_id FROM audit_log WHERE entity_id = %s ORDER BY created_at",
        (reference_id,),
    ).fetchall()
    kinds = [e["event_type"] for e in events]
    for expected in ("reference.submitted", "reference.fetch.started", "reference.fetch.done",
                     "reference.transcribe.done", "reference.extract.done"):
        assert expected in kinds
    assert len({e["correlation_id"] for e in events}) == 1


def test_messages_delivered_twice_leave_one_set_of_assets(broker, worker, media_server, conn):
    from jobs.winners import extract_reference, fetch_reference, transcribe_reference

    reference_id = _enqueue(_serve(media_server, "speech_only.mp4"))
    fetch_reference.send(reference_id)  # a duplicate of the fetch message
    drain(broker, worker)
    assert _row(conn, reference_id)["status"] == "ready"
    first_assets = _assets(conn, reference_id)
    first_extract = conn.execute("SELECT * FROM reference_extracts WHERE reference_video_id = %s",
                                 (reference_id,)).fetchone()
    audit_count = conn.execute("SELECT count(*) AS n FROM audit_log WHERE entity_id = %s",
                               (reference_id,)).fetchone()["n"]

    for actor in (fetch_reference, transcribe_reference, extract_reference):
        actor.send(reference_id)
        actor.send(reference_id)
    drain(broker, worker)

    assert _row(conn, reference_id)["status"] == "ready"
    assert _assets(conn, reference_id) == first_assets
    assert conn.execute("SELECT count(*) AS n FROM reference_extracts WHERE reference_video_id = %s",
                        (reference_id,)).fetchone()["n"] == 1
    assert conn.execute("SELECT * FROM reference_extracts WHERE reference_video_id = %s",
                        (reference_id,)).fetchone() == first_extract
    assert conn.execute("SELECT count(*) AS n FROM audit_log WHERE entity_id = %s",
                        (reference_id,)).fetchone()["n"] == audit_count
    assert media_server.hit_count("files/speech_only.mp4") >= 1


def test_silent_video_with_text_has_no_spoken_hook(broker, worker, media_server, conn):
    reference_id = _enqueue(_serve(media_server, "silent_text.mp4"))
    drain(broker, worker)
    row = _row(conn, reference_id)
    assert row["status"] == "ready", row["error_message"]
    extract = conn.execute("SELECT * FROM reference_extracts WHERE reference_video_id = %s",
                           (reference_id,)).fetchone()
    assert extract["spoken_hook"] == ""
    assert "HACKS" in (extract["on_screen_hook"] or "").upper()


def test_video_without_speech_or_text_fails_with_reason(broker, worker, media_server, conn):
    reference_id = _enqueue(_serve(media_server, "no_speech_no_text.mp4"))
    drain(broker, worker)
    row = _row(conn, reference_id)
    assert row["status"] == "failed"
    assert row["failed_stage"] == "extract"
    assert row["error_message"] == ("extract: the video has no speech and no on-screen text, "
                                    "so there is no hook to extract")
