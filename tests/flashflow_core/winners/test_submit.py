"""Submitting URLs on real Postgres: a URL already in the Winners Bank is not fetched again, but
each submission is on the row's audit trail under the message that made it, so any producer's
message id finds the row."""

from __future__ import annotations

from flashflow_core.winners import lookup
from flashflow_core.winners.submit import ReferenceSubmission, submit_reference

URL = "https://www.tiktok.com/@shop/video/7410000000000000001"


def _events(conn, reference_id) -> list[tuple]:
    return [(e["event"], e["actor"], e["message_id"])
            for e in lookup.timeline(conn, reference_id)]


def test_a_second_producers_message_finds_the_row_it_submitted_again(pool, conn):
    first = submit_reference(pool, ReferenceSubmission(url=URL, submitted_by="web-app"), message_id="msg-1")
    again = submit_reference(pool, ReferenceSubmission(url=URL + "?utm_source=share", submitted_by="crm"),
                             message_id="msg-2")
    assert first.created and not again.created and again.id == first.id
    assert lookup.find_reference(conn, "msg-2").id == first.id
    assert lookup.find_reference(conn, "msg-1").id == first.id
    assert _events(conn, first.id) == [("reference.submitted", "web-app", "msg-1"),
                                       ("reference.resubmitted", "crm", "msg-2")]
    [resubmitted] = conn.execute("SELECT correlation_id, summary, details FROM audit_log "
                                 "WHERE event_type = 'reference.resubmitted'").fetchall()
    assert resubmitted["correlation_id"] == first.correlation_id  # on the row's current run
    assert resubmitted["summary"] == f"submitted again while queued: {URL}"
    assert resubmitted["details"]["status"] == "queued"


def test_a_job_delivered_again_adds_nothing(pool, conn):
    first = submit_reference(pool, ReferenceSubmission(url=URL, submitted_by="web-app"), message_id="msg-1")
    submit_reference(pool, ReferenceSubmission(url=URL, submitted_by="web-app"), message_id="msg-1")
    submit_reference(pool, ReferenceSubmission(url=URL, submitted_by="crm"), message_id="msg-2")
    submit_reference(pool, ReferenceSubmission(url=URL, submitted_by="crm"), message_id="msg-2")
    assert _events(conn, first.id) == [("reference.submitted", "web-app", "msg-1"),
                                       ("reference.resubmitted", "crm", "msg-2")]


def test_a_persons_resubmission_is_recorded_without_a_message(pool, conn):
    """`flashflow enqueue` sends no job message; and a row the web app inserted has no run yet."""
    [inserted] = conn.execute("INSERT INTO reference_videos (url, submitted_by) VALUES (%s, 'admin-page') "
                              "RETURNING id", (URL,)).fetchall()
    for _ in range(2):
        again = submit_reference(pool, ReferenceSubmission(url=URL, submitted_by="cli:ana"))
        assert again.id == inserted["id"] and not again.created
    assert _events(conn, inserted["id"]) == [("reference.resubmitted", "cli:ana", None)] * 2
