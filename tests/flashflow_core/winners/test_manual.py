"""A person stepping in: what attach and retry refuse, before anything is stored."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from PIL import Image

from flashflow_core.adapters.toolkit import Toolkit
from flashflow_core.db.pool import make_pool
from flashflow_core.winners import manual
from flashflow_core.winners.submit import ReferenceSubmission, submit_reference
from tests.conftest import FIXTURES


@pytest.fixture
def env(settings) -> Iterator[tuple]:
    with make_pool(settings) as pool:
        yield pool, Toolkit(settings)


def _submit(pool) -> object:
    return submit_reference(pool, ReferenceSubmission(url="https://example.com/v/9.mp4")).id


def test_attach_file_to_a_ready_row_is_refused_and_stores_nothing(env, conn):
    pool, tools = env
    rid = _submit(pool)
    conn.execute("UPDATE reference_videos SET status = 'ready' WHERE id = %s", (rid,))
    with pytest.raises(manual.CannotStepIn, match="is ready; attach-file is allowed from queued, needs_file"):
        manual.attach_file(pool, tools, rid, FIXTURES / "speech_only.mp4")
    assert not tools.storage.local_path(f"reference/{rid}").exists()


def test_attach_is_refused_while_a_worker_holds_the_lease(env, conn):
    pool, tools = env
    rid = _submit(pool)
    conn.execute("UPDATE reference_videos SET status = 'needs_transcription', "
                 "lease_until = now() + interval '10 minutes', lease_message_id = 'w' WHERE id = %s", (rid,))
    with pytest.raises(manual.CannotStepIn, match="is being worked on"):
        manual.attach_transcript(pool, tools, rid, "Stop scrolling. Link in bio.")
    assert not tools.storage.local_path(f"reference/{rid}").exists()
    assert conn.execute("SELECT status FROM reference_videos WHERE id = %s", (rid,)).fetchone()["status"] \
        == "needs_transcription"


@pytest.mark.parametrize("text", ['{"segments": [{"start": 1}]}', '{"segments": 5}',
                                  '{"segments": [{"start": "a", "end": 1, "text": "x"}]}', '{"text": '])
def test_malformed_transcript_json_is_a_clear_refusal(text):
    with pytest.raises(manual.CannotStepIn, match="transcript"):
        manual.parse_transcript(text)


def test_transcript_json_text_comes_from_segments_when_missing():
    transcript = manual.parse_transcript('{"segments": [{"start": 0, "end": 1.5, "text": " Wait. "},'
                                         ' {"start": 1.5, "end": 3, "text": "Link in bio."}]}')
    assert transcript.text == "Wait. Link in bio."
    assert [s.end for s in transcript.segments] == [1.5, 3.0]


def test_retry_refuses_a_row_that_has_not_failed(env):
    pool, _ = env
    rid = _submit(pool)
    with pytest.raises(manual.CannotStepIn, match="is queued, not failed"):
        manual.retry(pool, rid)


def _asset(conn, rid, asset_type: str) -> dict | None:
    return conn.execute("SELECT storage_path, transcript_text FROM reference_assets "
                        "WHERE reference_video_id = %s AND asset_type = %s", (rid, asset_type)).fetchone()


def _stored_files(tools) -> set[str]:
    return {str(p.relative_to(tools.storage.root)) for p in tools.storage.root.rglob("*") if p.is_file()}


@pytest.fixture
def attached(env, conn):
    """A row with an attached transcript, failed at extraction (so a person may attach again)."""
    pool, tools = env
    rid = _submit(pool)
    manual.attach_transcript(pool, tools, rid, "The first transcript. Link in bio.")
    conn.execute("UPDATE reference_videos SET status = 'failed', failed_stage = 'extract', "
                 "error_message = 'extractor down' WHERE id = %s", (rid,))
    return rid


def _unchanged(conn, tools, rid, before_asset, before_files) -> None:
    assert _asset(conn, rid, "transcript") == before_asset
    assert tools.storage.read_bytes(before_asset["storage_path"]).startswith(b'{"text": "The first transcript.')
    assert _stored_files(tools) == before_files
    row = conn.execute("SELECT status, failed_stage FROM reference_videos WHERE id = %s", (rid,)).fetchone()
    assert row == {"status": "failed", "failed_stage": "extract"}


@pytest.mark.parametrize(("data", "reason"), [
    (b"Stop scrolling.\x00 Link in bio.", "holds a NUL character"),
    (b"Stop scrolling. \xff\xfe Link in bio.", "not UTF-8 text (byte 16 is 0xff)"),
    ("Stop \ud800 scrolling.", "not UTF-8 text"),
    (b'{"text": "x", "segments": ' + b"[" * 10_000 + b"]" * 10_000 + b"}", "nested deeper than 16 levels"),
    (b'{"text": "x", "segments": [{"start": NaN, "end": 1, "text": "x"}]}', "must look like"),
    (b"word " * 300_000, "larger than 1,048,576 bytes (FLASHFLOW_TRANSCRIPT_MAX_BYTES)"),
])
def test_a_refused_transcript_leaves_row_and_file_as_they_were(env, conn, attached, data, reason):
    pool, tools = env
    before_asset, before_files = _asset(conn, attached, "transcript"), _stored_files(tools)
    with pytest.raises(manual.CannotStepIn, match=reason.replace("(", r"\(").replace(")", r"\)")) as refused:
        manual.attach_transcript(pool, tools, attached, data)
    assert "\n" not in str(refused.value)
    _unchanged(conn, tools, attached, before_asset, before_files)


def test_a_failed_switch_removes_the_new_file_and_keeps_the_old(env, conn, attached):
    """The database refuses the asset (a trigger standing in for any failure inside the transaction):
    the transcript written under its new key is removed, the row still names the old one."""
    pool, tools = env
    before_asset, before_files = _asset(conn, attached, "transcript"), _stored_files(tools)
    conn.execute("CREATE FUNCTION pg_temp.refuse() RETURNS trigger LANGUAGE plpgsql AS "
                 "$$ BEGIN RAISE EXCEPTION 'disk quota exceeded'; END $$")
    conn.execute("CREATE TRIGGER refuse_assets BEFORE INSERT OR UPDATE ON reference_assets "
                 "FOR EACH ROW EXECUTE FUNCTION pg_temp.refuse()")
    try:
        with pytest.raises(manual.CannotStepIn, match=r"database refused the change \(disk quota exceeded\); "
                                                      "nothing was changed"):
            manual.attach_transcript(pool, tools, attached, "A second transcript. Link in bio.")
    finally:
        conn.execute("DROP TRIGGER refuse_assets ON reference_assets")
    _unchanged(conn, tools, attached, before_asset, before_files)


def test_a_new_attachment_replaces_the_old_file_under_a_new_key(env, conn, attached):
    pool, tools = env
    old = _asset(conn, attached, "transcript")["storage_path"]
    assert manual.attach_transcript(pool, tools, attached, "A second transcript. Link in bio.") == "extract"
    new = _asset(conn, attached, "transcript")
    assert new["storage_path"] != old and new["transcript_text"] == "A second transcript. Link in bio."
    assert json.loads(tools.storage.read_bytes(new["storage_path"]))["text"] == "A second transcript. Link in bio."
    assert not tools.storage.exists(old)
    assert _stored_files(tools) == {new["storage_path"]}


def test_attach_file_refuses_a_picture(env, conn, tmp_path):
    pool, tools = env
    rid = _submit(pool)
    picture = tmp_path / "cover.png"
    Image.new("RGB", (64, 64), "red").save(picture)
    with pytest.raises(manual.CannotStepIn, match="not a video: a single picture"):
        manual.attach_file(pool, tools, rid, picture)
    assert _asset(conn, rid, "mp4") is None and _stored_files(tools) == set()
    assert manual.attach_file(pool, tools, rid, FIXTURES / "speech_only.mp4") == "transcribe"
    stored = _asset(conn, rid, "mp4")["storage_path"]
    assert _stored_files(tools) == {stored} and stored.endswith("/video.mp4")
