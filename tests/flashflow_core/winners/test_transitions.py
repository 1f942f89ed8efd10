"""Every path that changes a reference row's status leaves exactly one audit row, written by the
transition trigger, with the right from/to, event, actor, message id and run (correlation id):
the stages (claim, finish, fail), the rescue giving up, retry and both attachments. The rows are
driven through the real code on real Postgres with the instant stand-in tools."""

from __future__ import annotations

from collections.abc import Iterator
from uuid import UUID

import pytest

from flashflow_core.adapters.base import PermanentError
from flashflow_core.adapters.toolkit import Toolkit
from flashflow_core.config import Settings
from flashflow_core.db.pool import make_pool
from flashflow_core.winners import manual
from flashflow_core.winners.pipeline import Pipeline
from flashflow_core.winners.rescue import find_stuck
from flashflow_core.winners.states import Stage
from flashflow_core.winners.submit import ReferenceSubmission, submit_reference
from tests.conftest import FIXTURES


@pytest.fixture
def pipeline(settings: Settings) -> Iterator[Pipeline]:
    instant = settings.model_copy(update={"toolkit": "instant"})
    with make_pool(instant) as pool:
        yield Pipeline(pool, instant, Toolkit(instant))


def _submit(pipeline: Pipeline, url: str = "https://example.com/v/1.mp4") -> UUID:
    return submit_reference(pipeline.pool, ReferenceSubmission(url=url, submitted_by="test")).id


class Audit:
    """The audit rows of one reference row, read in order; `new()` returns those added since the last call."""

    def __init__(self, conn, reference_id: UUID) -> None:
        self.conn, self.reference_id, self.seen = conn, reference_id, 0

    def all(self) -> list[dict]:
        return self.conn.execute("SELECT * FROM audit_log WHERE entity_id = %s ORDER BY created_at, id",
                                 (str(self.reference_id),)).fetchall()

    def new(self) -> list[dict]:
        rows = self.all()
        fresh, self.seen = rows[self.seen:], len(rows)
        return fresh

    def one(self) -> dict:
        rows = self.new()
        assert len(rows) == 1, [(r["event_type"], r["summary"]) for r in rows]
        return rows[0]


def _moved(audit: dict, event: str, from_: str, to: str, actor: str, message_id: str | None) -> None:
    assert (audit["event_type"], audit["details"]["from"], audit["details"]["to"], audit["actor"],
            audit["message_id"]) == (event, from_, to, actor, message_id)


def _row(conn, reference_id: UUID) -> dict:
    return conn.execute("SELECT * FROM reference_videos WHERE id = %s", (reference_id,)).fetchone()


def test_each_stage_move_is_audited_once_with_its_message_and_attempt(pipeline, conn):
    rid = _submit(pipeline)
    audit = Audit(conn, rid)
    submitted = audit.one()
    assert submitted["event_type"] == "reference.submitted" and submitted["message_id"] is None
    run = _row(conn, rid)["correlation_id"]

    pipeline.run_stage(Stage.FETCH, rid, "m-fetch")
    started, done = audit.new()
    _moved(started, "reference.fetch.started", "queued", "needs_file", "system", "m-fetch")
    assert started["details"]["attempt"] == 1
    _moved(done, "reference.fetch.done", "needs_file", "needs_transcription", "system", "m-fetch")
    assert done["details"]["attempt"] == 1

    # Transcribe and extract work in the status they start from: the claim changes no status and
    # writes nothing; finishing moves the row on, once.
    pipeline.run_stage(Stage.TRANSCRIBE, rid, "m-transcribe")
    _moved(audit.one(), "reference.transcribe.done", "needs_transcription", "processing", "system", "m-transcribe")
    pipeline.run_stage(Stage.EXTRACT, rid, "m-extract")
    _moved(audit.one(), "reference.extract.done", "processing", "ready", "system", "m-extract")

    assert {a["correlation_id"] for a in audit.all()} == {run}
    row = _row(conn, rid)
    assert row["audit_context"] is None and row["stage_attempts"] == 0


def test_a_crash_claim_and_a_failure_are_each_audited_once(pipeline, conn, monkeypatch):
    rid = _submit(pipeline)
    pipeline.run_stage(Stage.FETCH, rid, "m1")
    audit = Audit(conn, rid)
    audit.new()
    conn.execute("UPDATE reference_videos SET lease_until = now() + interval '20 minutes', "
                 "lease_message_id = 'tm' WHERE id = %s", (rid,))
    assert audit.new() == [], "a lease change alone is no transition"

    def broken(path, dest):
        raise PermanentError("the audio track is damaged")

    monkeypatch.setattr(pipeline.tools.media, "write_audio_wav", broken)
    result = pipeline.run_stage(Stage.TRANSCRIBE, rid, "tm")  # the message is back after its worker died
    assert result.outcome == "failed"
    crash, failed = audit.new()
    _moved(crash, "reference.transcribe.started", "needs_transcription", "needs_transcription", "system", "tm")
    assert (crash["details"]["attempt"], crash["details"]["crashes"]) == (1, 1)
    _moved(failed, "reference.transcribe.failed", "needs_transcription", "failed", "system", "tm")
    assert failed["summary"] == "transcribe: the audio track is damaged"
    assert failed["details"]["stage"] == "transcribe"


def test_retry_and_attachments_are_audited_as_the_person_with_a_new_run(pipeline, conn, monkeypatch):
    rid = _submit(pipeline)

    def gone(url, dest):
        raise PermanentError("the server answered 404 Not Found")

    monkeypatch.setattr(pipeline.tools.downloader, "fetch", gone)
    pipeline.run_stage(Stage.FETCH, rid, "m1")
    first_run = _row(conn, rid)["correlation_id"]
    audit = Audit(conn, rid)
    audit.new()

    assert manual.retry(pipeline.pool, rid, actor="cli:ana") == Stage.FETCH
    retried = audit.one()
    _moved(retried, "reference.retried", "failed", "queued", "cli:ana", None)
    assert retried["details"]["previous_error"] == "fetch: the server answered 404 Not Found"
    row = _row(conn, rid)
    assert retried["correlation_id"] == row["correlation_id"] != first_run
    assert (row["stage_attempts"], row["error_message"], row["failed_stage"]) == (0, None, None)

    manual.attach_file(pipeline.pool, pipeline.tools, rid, FIXTURES / "speech_only.mp4", actor="console:ben")
    attached = audit.one()
    _moved(attached, "reference.attached", "queued", "needs_transcription", "console:ben", None)
    assert attached["summary"] == "queued -> needs_transcription: attached file speech_only.mp4"

    manual.attach_transcript(pipeline.pool, pipeline.tools, rid, "Stop scrolling. Link in bio.", actor="cli:ana")
    _moved(audit.one(), "reference.attached", "needs_transcription", "processing", "cli:ana", None)
    assert len({a["correlation_id"] for a in audit.all()}) == 4  # submission, retry, two attachments


def test_the_rescue_giving_up_is_audited_per_row_with_its_message(pipeline, conn):
    rid = _submit(pipeline)
    audit = Audit(conn, rid)
    audit.new()
    for attempt in range(2):
        conn.execute("UPDATE reference_videos SET updated_at = now() - interval '1 hour'")
        rescue = find_stuck(pipeline.pool, quiet_s=600, max_resends=1, batch=10, message_id=f"rescue-{attempt}")
    assert rescue.failed == [rid]
    abandoned = audit.one()
    _moved(abandoned, "reference.abandoned", "queued", "failed", "system", "rescue-1")
    assert abandoned["details"]["stage"] == "fetch"
    row = _row(conn, rid)
    assert (row["failed_stage"], row["resend_count"]) == ("fetch", 2), "giving up keeps the counts"
    assert row["error_message"].startswith("fetch: no progress after 1 resends")
    jobs = conn.execute("SELECT message_id, correlation_id FROM audit_log "
                        "WHERE event_type = 'job.rescue_stuck_references' ORDER BY created_at").fetchall()
    assert [(j["message_id"], j["correlation_id"]) for j in jobs] == [(f"rescue-{i}",) * 2 for i in range(2)]


def test_cancel_stops_a_waiting_row_never_a_running_attempt_and_is_audited_once(pipeline, conn):
    rid = _submit(pipeline)
    audit = Audit(conn, rid)
    audit.new()
    # An attempt holds the lease: the person is told to wait, nothing changes.
    pipeline.run_stage(Stage.FETCH, rid, "m1")  # instant tools: fetched, now waiting for transcription
    conn.execute("UPDATE reference_videos SET lease_until = now() + interval '1 minute', lease_message_id = 't1' "
                 "WHERE id = %s", (rid,))
    audit.new()
    with pytest.raises(manual.CannotStepIn, match="being worked on"):
        manual.cancel(pipeline.pool, rid, actor="console:ana")
    assert audit.new() == [] and _row(conn, rid)["status"] == "needs_transcription"

    conn.execute("UPDATE reference_videos SET lease_until = NULL, lease_message_id = NULL WHERE id = %s", (rid,))
    assert manual.cancel(pipeline.pool, rid, actor="console:ana") == Stage.TRANSCRIBE
    canceled = audit.one()
    _moved(canceled, "reference.canceled", "needs_transcription", "failed", "console:ana", None)
    assert canceled["summary"] == "needs_transcription -> failed: canceled by console:ana"
    row = _row(conn, rid)
    assert (row["status"], row["failed_stage"], row["error_message"]) == ("failed", "transcribe",
                                                                          "canceled by console:ana")
    assert pipeline.run_stage(Stage.TRANSCRIBE, rid, "m2").outcome == "skipped"  # its message finds nothing
    with pytest.raises(manual.CannotStepIn, match="failed already: nothing to cancel"):
        manual.cancel(pipeline.pool, rid, actor="console:ana")
    assert manual.retry(pipeline.pool, rid, actor="cli:ben") == Stage.TRANSCRIBE  # a canceled row can be retried
    assert [a["event_type"] for a in audit.new()] == ["reference.retried"]
