"""A person stepping in: what attach and retry refuse, before anything is stored."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from flashflow_core.adapters.toolkit import Toolkit
from flashflow_core.db.pool import make_pool
from flashflow_core.winners import manual, storage_keys
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
    assert not tools.storage.exists(storage_keys.video(rid))


def test_attach_is_refused_while_a_worker_holds_the_lease(env, conn):
    pool, tools = env
    rid = _submit(pool)
    conn.execute("UPDATE reference_videos SET status = 'needs_transcription', "
                 "lease_until = now() + interval '10 minutes', lease_message_id = 'w' WHERE id = %s", (rid,))
    with pytest.raises(manual.CannotStepIn, match="is being worked on"):
        manual.attach_transcript(pool, tools, rid, "Stop scrolling. Link in bio.")
    assert not tools.storage.exists(storage_keys.transcript(rid))
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
