"""Finding a Winners Bank row by id, id prefix, URL or message id, on real Postgres."""

from __future__ import annotations

import json
from uuid import UUID

import pytest

from flashflow_core.winners import lookup

FIRST = UUID("feed1111-0000-4000-8000-000000000001")
SECOND = UUID("feed2222-0000-4000-8000-000000000002")
OTHER = UUID("0bad0000-0000-4000-8000-000000000003")
TIKTOK = "https://www.tiktok.com/@shop/video/7400000000000000001"


@pytest.fixture
def rows(conn):
    for rid, url in ((FIRST, TIKTOK), (SECOND, "https://example.com/v/2.mp4"), (OTHER, "https://example.com/v/3")):
        conn.execute("INSERT INTO reference_videos (id, url, submitted_by) VALUES (%s, %s, 'test')", (rid, url))
    return conn


def test_a_whole_id_and_a_unique_prefix(rows):
    assert lookup.find_reference(rows, str(FIRST)).id == FIRST
    assert lookup.find_reference(rows, FIRST.hex).id == FIRST  # without dashes
    assert lookup.find_reference(rows, "feed1").id == FIRST
    assert lookup.find_reference(rows, "FEED-22").id == SECOND  # any case, dashes ignored
    assert lookup.find_reference(rows, "0bad").url == "https://example.com/v/3"


def test_an_ambiguous_prefix_lists_the_matches(rows):
    with pytest.raises(lookup.Ambiguous) as caught:
        lookup.find_reference(rows, "feed")
    assert [c.id for c in caught.value.candidates] == [FIRST, SECOND]
    assert str(caught.value).startswith("'feed' matches 2 rows: ")
    assert str(FIRST) in str(caught.value) and TIKTOK in str(caught.value)


def test_too_short_or_unknown_keys_are_not_found(rows):
    with pytest.raises(lookup.NotFound, match="an id prefix needs at least 4 characters"):
        lookup.find_reference(rows, "fee")
    with pytest.raises(lookup.NotFound, match="no Winners Bank row matches 'beef'"):
        lookup.find_reference(rows, "beef")
    with pytest.raises(lookup.NotFound, match="give an id"):
        lookup.find_reference(rows, "  ")


def test_a_url_is_normalised_as_submissions_are(rows):
    assert lookup.find_reference(rows, "https://tiktok.com/@Shop/video/7400000000000000001?utm_source=ig").id == FIRST
    assert lookup.find_reference(rows, "https://example.com/v/2.mp4#t=3").id == SECOND
    with pytest.raises(lookup.NotFound):
        lookup.find_reference(rows, "https://example.com/v/404.mp4")


def test_a_message_id_finds_the_row_its_job_wrote(rows):
    rows.execute("INSERT INTO audit_log (correlation_id, message_id, event_type, entity_type, entity_id, summary) "
                 "VALUES ('run', 'producer-msg-1', 'reference.submitted', 'reference_video', %s, 'submitted')",
                 (str(SECOND),))
    assert lookup.find_reference(rows, "producer-msg-1").id == SECOND
    rows.execute("INSERT INTO audit_log (correlation_id, message_id, event_type, entity_type, entity_id, summary) "
                 "VALUES ('m2', 'producer-msg-2', 'message.dead_lettered', 'message', 'redis-2', "
                 "'default (enqueue_reference): invalid arguments for enqueue_reference: url: Field required')")
    with pytest.raises(lookup.NotFound, match="message producer-msg-2 made no Winners Bank row; its latest audit "
                       r"event \(.*\): message.dead_lettered: default \(enqueue_reference\): invalid arguments"):
        lookup.find_reference(rows, "producer-msg-2")


def test_detail_has_the_timeline_assets_and_hook_package(rows):
    rows.execute("UPDATE reference_videos SET status = 'failed', error_message = 'the file is empty', "
                 "failed_stage = 'transcribe' WHERE id = %s", (FIRST,))
    rows.execute("INSERT INTO reference_assets (reference_video_id, asset_type, storage_path, transcript_text) "
                 "VALUES (%s, 'transcript', 'references/x/transcript.json', 'Stop scrolling.')", (FIRST,))
    rows.execute("INSERT INTO reference_extracts (reference_video_id, spoken_hook, cta, hook_family, quality_score) "
                 "VALUES (%s, 'Stop scrolling.', 'Link in bio', 'pattern_interrupt', 70)", (FIRST,))
    rows.execute("INSERT INTO audit_log (correlation_id, message_id, event_type, entity_type, entity_id, summary, "
                 "details) VALUES ('run', 'm-fetch', 'reference.fetch.started', 'reference_video', %s, "
                 "'queued -> needs_file', %s)", (str(FIRST), json.dumps({"attempt": 2})))

    detail = lookup.reference_detail(rows, FIRST)
    assert detail.row["error_message"] == "the file is empty" and "audit_context" not in detail.row
    events = [(e["event"], e["attempt"], e["message_id"]) for e in detail.timeline]
    assert ("reference.fetch.started", 2, "m-fetch") in events
    assert events[-1][0] == "reference.fetch.started" and events[0][0] != "reference.fetch.started"  # oldest first
    assert [(a["asset_type"], a["transcript_chars"]) for a in detail.assets] == [("transcript", 15)]
    assert detail.hook_package["spoken_hook"] == "Stop scrolling." and "reference_video_id" not in detail.hook_package
    assert lookup.reference_detail(rows, UUID(int=1)) is None
