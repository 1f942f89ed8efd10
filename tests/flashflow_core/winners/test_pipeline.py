"""The stage runner's guarantees, on real Postgres with instant stand-in tools: conditional
transitions, duplicate and stale messages, leases, crash counting and bounded retries."""

from __future__ import annotations

from collections.abc import Iterator
from uuid import UUID

import pytest

from flashflow_core.adapters.base import PermanentError, TransientError
from flashflow_core.adapters.fakes import InstantDownloader
from flashflow_core.adapters.toolkit import Toolkit
from flashflow_core.config import Settings
from flashflow_core.db.pool import make_pool
from flashflow_core.winners.pipeline import Pipeline
from flashflow_core.winners.states import Stage
from flashflow_core.winners.submit import ReferenceSubmission, submit_reference


@pytest.fixture
def pipeline(settings: Settings) -> Iterator[Pipeline]:
    instant = settings.model_copy(update={"toolkit": "instant", "stage_max_retries": 2})
    with make_pool(instant) as pool:
        yield Pipeline(pool, instant, Toolkit(instant))


def _submit(pipeline: Pipeline, url: str = "https://example.com/v/1.mp4") -> UUID:
    return submit_reference(pipeline.pool, ReferenceSubmission(url=url, submitted_by="test")).id


def _row(conn, reference_id: UUID) -> dict:
    return conn.execute("SELECT * FROM reference_videos WHERE id = %s", (reference_id,)).fetchone()


def test_stages_move_the_row_to_ready(pipeline, conn):
    rid = _submit(pipeline)
    assert _row(conn, rid)["status"] == "queued"
    results = [pipeline.run_stage(stage, rid, f"m-{stage}") for stage in Stage]
    assert [r.outcome for r in results] == ["advanced"] * 3
    assert [r.next_stage for r in results] == [Stage.TRANSCRIBE, Stage.EXTRACT, None]
    row = _row(conn, rid)
    assert row["status"] == "ready" and row["lease_until"] is None
    kinds = {a["asset_type"] for a in conn.execute(
        "SELECT asset_type FROM reference_assets WHERE reference_video_id = %s", (rid,))}
    assert kinds == {"mp4", "audio", "transcript"}
    # The site handler that fetched it and the hook extractor are different facts, both kept.
    assert (row["source_meta"]["ytdlp_extractor"], row["source_meta"]["extractor"]) == (
        "instant", pipeline.tools.extractor.name)


def test_duplicate_and_stale_messages_change_nothing(pipeline, conn):
    rid = _submit(pipeline)
    pipeline.run_stage(Stage.FETCH, rid, "m1")
    before = _row(conn, rid)
    again = pipeline.run_stage(Stage.FETCH, rid, "m2")  # duplicate fetch after the stage finished
    stale = pipeline.run_stage(Stage.EXTRACT, rid, "m3")  # a message for a later stage, too early
    assert (again.outcome, stale.outcome) == ("skipped", "skipped")
    assert "needs_transcription" in again.detail
    after = _row(conn, rid)
    assert after["status"] == before["status"] == "needs_transcription"
    assert after["updated_at"] == before["updated_at"]


def test_a_live_lease_turns_away_a_second_message(pipeline, conn):
    rid = _submit(pipeline)
    conn.execute("UPDATE reference_videos SET status = 'needs_file', lease_until = now() + interval '5 minutes', "
                 "lease_message_id = 'holder' WHERE id = %s", (rid,))
    result = pipeline.run_stage(Stage.FETCH, rid, "intruder")
    assert result.outcome == "skipped" and "lease" in result.detail
    assert _row(conn, rid)["lease_message_id"] == "holder"


def test_message_returning_after_a_crash_is_counted_and_the_third_crash_fails(pipeline, conn):
    rid = _submit(pipeline)
    pipeline.run_stage(Stage.FETCH, rid, "m1")
    # A worker took the transcribe message, then died twice mid-stage (lease left behind).
    conn.execute("UPDATE reference_videos SET lease_until = now() + interval '20 minutes', "
                 "lease_message_id = 'tm', crash_count = 1 WHERE id = %s", (rid,))
    result = pipeline.run_stage(Stage.TRANSCRIBE, rid, "tm")  # redelivered after the second crash
    assert result.outcome == "advanced"

    conn.execute("UPDATE reference_videos SET lease_until = now() + interval '20 minutes', "
                 "lease_message_id = 'em', crash_count = 2 WHERE id = %s", (rid,))
    result = pipeline.run_stage(Stage.EXTRACT, rid, "em")
    row = _row(conn, rid)
    assert result.outcome == "failed"
    assert row["status"] == "failed" and row["failed_stage"] == "extract"
    assert row["error_message"] == ("extract: the extract stage stopped its worker 3 times "
                                    "(killed or crashed mid-stage), so it was not tried again")


def test_transient_errors_retry_then_fail_with_the_cause(pipeline, conn, monkeypatch):
    rid = _submit(pipeline)

    def flaky(url, dest):
        raise TransientError("the server answered 503 Service Unavailable")

    monkeypatch.setattr(pipeline.tools.downloader, "fetch", flaky)
    outcomes = [pipeline.run_stage(Stage.FETCH, rid, "m").outcome for _ in range(3)]
    assert outcomes == ["retry", "retry", "failed"]
    row = _row(conn, rid)
    assert row["status"] == "failed" and row["failed_stage"] == "fetch"
    assert row["error_message"] == "fetch: gave up after 3 attempts: the server answered 503 Service Unavailable"


def test_permanent_error_fails_at_once(pipeline, conn, monkeypatch):
    rid = _submit(pipeline)

    def gone(url, dest):
        raise PermanentError("the server answered 404 Not Found")

    monkeypatch.setattr(pipeline.tools.downloader, "fetch", gone)
    assert pipeline.run_stage(Stage.FETCH, rid, "m").outcome == "failed"
    row = _row(conn, rid)
    assert (row["status"], row["error_message"]) == ("failed", "fetch: the server answered 404 Not Found")
    audit = conn.execute("SELECT event_type, correlation_id, summary FROM audit_log WHERE entity_id = %s "
                         "ORDER BY created_at", (str(rid),)).fetchall()
    assert [a["event_type"] for a in audit] == ["reference.submitted", "reference.fetch.started",
                                                "reference.fetch.failed"]
    assert {a["correlation_id"] for a in audit} == {row["correlation_id"]}


def test_submitting_a_known_url_reports_the_existing_row(pipeline):
    first = submit_reference(pipeline.pool, ReferenceSubmission(url="https://Example.com/v/2.mp4?utm_source=x",
                                                                submitted_by="a"))
    second = submit_reference(pipeline.pool, ReferenceSubmission(url="https://example.com/v/2.mp4",
                                                                 submitted_by="b"))
    assert first.created and not second.created
    assert second.id == first.id and second.status == "queued"


def test_a_site_that_keeps_throttling_fails_the_row_after_the_limit(settings, conn, monkeypatch):
    from flashflow_core.adapters.base import SiteThrottled

    limited = settings.model_copy(update={"toolkit": "instant", "fetch_max_throttles": 3})
    with make_pool(limited) as pool:
        pipeline = Pipeline(pool, limited, Toolkit(limited))
        rid = _submit(pipeline)

        def busy(url, dest):
            raise SiteThrottled("the server answered 429 Too Many Requests", site="example.com", retry_after_s=60)

        monkeypatch.setattr(pipeline.tools.downloader, "fetch", busy)
        outcomes = [pipeline.run_stage(Stage.FETCH, rid, f"m{i}").outcome for i in range(3)]
    row = _row(conn, rid)
    assert outcomes == ["throttled", "throttled", "failed"]
    assert row["status"] == "failed" and row["stage_attempts"] == 1  # throttles cost no attempts
    assert row["error_message"].startswith("fetch: the site kept throttling us (3 times")


def test_an_attempt_that_lost_its_lease_cannot_finish_or_fail_the_row(pipeline, conn, monkeypatch):
    rid = _submit(pipeline)
    taken_over = {}

    def slow_fetch(url, dest):
        # While this attempt runs, its lease lapses and another claim takes the row over (next token).
        conn.execute("UPDATE reference_videos SET lease_token = lease_token + 1, lease_message_id = 'newer' "
                     "WHERE id = %s", (rid,))
        taken_over["yes"] = True
        return InstantDownloader().fetch(url, dest)

    monkeypatch.setattr(pipeline.tools.downloader, "fetch", slow_fetch)
    result = pipeline.run_stage(Stage.FETCH, rid, "older")
    row = _row(conn, rid)
    assert taken_over and result.outcome == "skipped"
    assert row["status"] == "needs_file" and (row["lease_message_id"], row["lease_token"]) == ("newer", 2)
    assert conn.execute("SELECT count(*) AS n FROM reference_assets WHERE reference_video_id = %s",
                        (rid,)).fetchone()["n"] == 0
    assert not [k for k in pipeline.tools.storage.files if k.startswith(f"reference/{rid}/")], \
        "the older attempt's file was left in storage"


def test_files_are_stored_per_attempt_and_swapped_in_by_the_finishing_statement(pipeline, conn):
    rid = _submit(pipeline)
    pipeline.run_stage(Stage.FETCH, rid, "m1")
    first = conn.execute("SELECT storage_path FROM reference_assets WHERE reference_video_id = %s",
                         (rid,)).fetchone()["storage_path"]
    assert first == f"reference/{rid}/a1/video.mp4"
    # Fetched again (a retry after a later failure): the new file is a new version; the old one goes.
    conn.execute("UPDATE reference_videos SET status = 'queued' WHERE id = %s", (rid,))
    pipeline.run_stage(Stage.FETCH, rid, "m2")
    second = conn.execute("SELECT storage_path FROM reference_assets WHERE reference_video_id = %s",
                          (rid,)).fetchone()["storage_path"]
    assert second == f"reference/{rid}/a2/video.mp4"
    assert sorted(pipeline.tools.storage.files) == [second]


def test_rescue_resends_quiet_rows_but_leaves_stages_with_a_backlog_alone(pipeline, conn):
    from flashflow_core.winners.rescue import find_stuck

    fetching, transcribing = _submit(pipeline, "https://a.example/1.mp4"), _submit(pipeline, "https://a.example/2.mp4")
    pipeline.run_stage(Stage.FETCH, transcribing, "m")
    conn.execute("UPDATE reference_videos SET updated_at = now() - interval '1 hour'")

    rescue = find_stuck(pipeline.pool, quiet_s=600, max_resends=2, batch=10, message_id="c",
                        skip_stages=[Stage.TRANSCRIBE])
    assert [(r.reference_id, r.stage) for r in rescue.resend] == [(fetching, Stage.FETCH)] and rescue.failed == []
    assert rescue.resend[0].correlation_id == _row(conn, fetching)["correlation_id"]

    for _ in range(2):
        conn.execute("UPDATE reference_videos SET updated_at = now() - interval '1 hour'")
        find_stuck(pipeline.pool, quiet_s=600, max_resends=2, batch=10, message_id="c",
                   skip_stages=[Stage.TRANSCRIBE])
    row = _row(conn, fetching)
    assert row["status"] == "failed" and "no progress after 2 resends" in row["error_message"]
    assert _row(conn, transcribing)["status"] == "needs_transcription"
