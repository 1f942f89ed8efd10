"""Rows inserted straight into reference_videos (as the web app's admin page does) are taken in
within seconds through LISTEN/NOTIFY, once across listeners, with the sweep as a backstop; rows
whose sender committed but never sent their message (a submission, a stage's finish) get it
from the intake within seconds."""

from __future__ import annotations

import json
import time

import psycopg
import pytest
import redis
from dramatiq import Worker

from flashflow_core.winners.intake import OWED_GRACE_S, settle
from flashflow_core.winners.states import Stage
from flashflow_core.winners.submit import ReferenceSubmission, submit_reference
from workers.listener import OWED_CHECK_S, IntakeListener

pytestmark = pytest.mark.timeout(120)


def fetch_messages(broker) -> list[str]:
    """reference ids of the fetch messages waiting in Redis."""
    payloads = broker.client.hvals(f"{broker.namespace}:fetch.msgs")
    messages = [json.loads(p) for p in payloads]
    assert {m["actor_name"] for m in messages} <= {"fetch_reference"}
    return [m["args"][0] for m in messages]


def start_listener(settings, sweep_s: float = 3600.0) -> IntakeListener:
    from jobs import runtime
    from jobs.winners import send_stage

    listener = IntakeListener(settings.model_copy(update={"intake_sweep_s": sweep_s}), runtime.current().pool,
                              send_stage, runtime.current().broker.redis_watch)
    listener.start()
    assert listener.listening.wait(10), "the listener did not connect"
    return listener


def wait_for(predicate, timeout_s: float) -> float:
    started = time.monotonic()
    while not predicate():
        assert time.monotonic() - started < timeout_s, "timed out"
        time.sleep(0.05)
    return time.monotonic() - started


def insert_rows(db_url: str, urls: list[str], *, triggers: bool = True) -> list[str]:
    with psycopg.connect(db_url, autocommit=True) as conn:
        if not triggers:  # as if the notification was lost: no trigger fires in this session
            conn.execute("SET session_replication_role = replica")
        rows = conn.execute(
            "INSERT INTO reference_videos (url, submitted_by) SELECT u, 'admin-page' FROM unnest(%s::text[]) u "
            "RETURNING id", (urls,)).fetchall()
    return [str(r[0]) for r in rows]


def test_an_inserted_row_gets_its_fetch_message_within_seconds(broker, settings, conn, db_url):
    listener = start_listener(settings)
    try:
        [reference_id] = insert_rows(db_url, ["https://www.tiktok.com/@shop/video/7300000000000000001"])
        took = wait_for(lambda: fetch_messages(broker) == [reference_id], 5)
    finally:
        listener.stop()
    assert took < 3
    row = conn.execute("SELECT status, correlation_id FROM reference_videos WHERE id = %s",
                       (reference_id,)).fetchone()
    assert row["status"] == "queued" and len(row["correlation_id"]) == 32
    audit = conn.execute("SELECT correlation_id, actor, details FROM audit_log WHERE entity_id = %s "
                         "AND event_type = 'reference.submitted'", (reference_id,)).fetchall()
    assert len(audit) == 1
    assert audit[0]["correlation_id"] == row["correlation_id"] and audit[0]["actor"] == "admin-page"
    assert audit[0]["details"]["via"] == "database"


def test_rows_submitted_through_python_are_not_sent_twice(broker, settings, conn):
    from jobs.winners import enqueue_submission

    listener = start_listener(settings, sweep_s=0.5)
    try:
        submitted = enqueue_submission(ReferenceSubmission(
            url="https://www.tiktok.com/@shop/video/7300000000000000002", submitted_by="cli"))
        time.sleep(2)  # several sweeps and any notification
    finally:
        listener.stop()
    assert fetch_messages(broker) == [str(submitted.id)]
    row = conn.execute("SELECT message_owed_since FROM reference_videos WHERE id = %s", (submitted.id,)).fetchone()
    assert row["message_owed_since"] is None  # settled by its sender: the intake will not send it again


def test_a_row_that_owes_its_message_gets_it_once(broker, settings, conn):
    """A sender that saved the row but could not send (Redis down, or it died): the intake sends it
    after the grace, once, and settles it."""
    from jobs import runtime

    owed = submit_reference(runtime.current().pool, ReferenceSubmission(
        url="https://www.tiktok.com/@shop/video/7300000000000000003", submitted_by="cli"))
    conn.execute("UPDATE reference_videos SET message_owed_since = now() - interval '10 seconds' WHERE id = %s",
                 (owed.id,))
    listener = start_listener(settings)
    try:
        wait_for(lambda: fetch_messages(broker) == [str(owed.id)], 5)
        time.sleep(2.5)  # another owed check
    finally:
        listener.stop()
    assert fetch_messages(broker) == [str(owed.id)]
    assert conn.execute("SELECT message_owed_since FROM reference_videos WHERE id = %s",
                        (owed.id,)).fetchone()["message_owed_since"] is None


def test_a_send_redis_refuses_leaves_the_row_for_the_next_try(broker, settings, conn, db_url):

    from jobs import runtime
    from jobs.winners import send_stage

    refusals = []

    def flaky_send(*args) -> None:
        if len(refusals) < 2:
            refusals.append(args)
            raise redis.ConnectionError("Error 111 connecting to 127.0.0.1:1. Connection refused.")
        send_stage(*args)

    listener = IntakeListener(settings.model_copy(update={"intake_sweep_s": 3600.0}), runtime.current().pool,
                              flaky_send, broker.redis_watch)
    [reference_id] = insert_rows(db_url, ["https://www.tiktok.com/@shop/video/7300000000000000004"])
    listener.start()
    try:
        took = wait_for(lambda: fetch_messages(broker) == [reference_id], 10)
    finally:
        listener.stop()
    assert len(refusals) == 2 and took < 5
    audit = conn.execute("SELECT count(*) AS n FROM audit_log WHERE entity_id = %s AND event_type = "
                         "'reference.submitted'", (reference_id,)).fetchone()
    assert audit["n"] == 1  # the refused claims rolled back with their audit rows


def test_two_listeners_take_each_row_in_once(broker, settings, db_url):
    first, second = start_listener(settings), start_listener(settings)
    try:
        ids = insert_rows(db_url, [f"https://www.tiktok.com/@shop/video/{7310000000000000000 + n}" for n in range(60)])
        wait_for(lambda: len(fetch_messages(broker)) >= 60, 10)
        time.sleep(0.5)
    finally:
        first.stop()
        second.stop()
    assert sorted(fetch_messages(broker)) == sorted(ids)


def test_the_sweep_finds_rows_whose_notification_was_lost(broker, settings, db_url):
    waiting_before = insert_rows(db_url, ["https://www.tiktok.com/@shop/video/7320000000000000001"], triggers=False)
    listener = start_listener(settings, sweep_s=1.0)
    try:
        wait_for(lambda: fetch_messages(broker) == waiting_before, 5)  # the sweep at start
        lost = insert_rows(db_url, ["https://www.tiktok.com/@shop/video/7320000000000000002"], triggers=False)
        wait_for(lambda: sorted(fetch_messages(broker)) == sorted(waiting_before + lost), 5)
    finally:
        listener.stop()


def _instant_runtime(settings):
    """Switch this process's runtime to the instant stand-in tools (their files live in this
    process's memory, so the test's own attempts and the worker's threads share them)."""
    from jobs import runtime

    return runtime.configure(settings.model_copy(update={"toolkit": "instant"}))


def test_a_stage_finished_but_never_followed_by_its_message_gets_it_from_the_intake(broker, worker, settings, conn):
    """The worker died between committing a stage's finish and sending the next stage's message:
    the finish marked the row as owing that message, and the intake sends it within seconds (not
    the stuck-work rescue ten minutes later); the row goes on to ready, each stage done once."""

    rt = _instant_runtime(settings)
    rid = submit_reference(rt.pool, ReferenceSubmission(
        url="https://www.tiktok.com/@shop/video/7330000000000000001", submitted_by="test")).id
    settle(rt.pool, [rid], Stage.FETCH)  # its fetch message went out (and is taken below)
    # What the fetch actor does, without the send that follows it: the crash.
    assert rt.pipeline.run_stage(Stage.FETCH, rid, "m-fetch").outcome == "advanced"
    finished = time.monotonic()
    row = conn.execute("SELECT status, message_owed_since FROM reference_videos WHERE id = %s", (rid,)).fetchone()
    assert row["status"] == "needs_transcription" and row["message_owed_since"] is not None
    listener = start_listener(settings)
    try:
        wait_for(lambda: conn.execute("SELECT status FROM reference_videos WHERE id = %s",
                                      (rid,)).fetchone()["status"] == "ready", 20)
    finally:
        listener.stop()
    took = time.monotonic() - finished
    print(f"ready {took:.1f} s after the finish")
    assert took < OWED_GRACE_S + OWED_CHECK_S + 3, f"ready {took:.1f} s after the finish"
    row = conn.execute("SELECT message_owed_since, resend_count FROM reference_videos WHERE id = %s",
                       (rid,)).fetchone()
    assert row["message_owed_since"] is None and row["resend_count"] == 0
    done = conn.execute("SELECT event_type, count(*) AS n FROM audit_log WHERE entity_id = %s "
                        "AND event_type LIKE 'reference.%%.done' GROUP BY event_type", (str(rid),)).fetchall()
    assert {r["event_type"]: r["n"] for r in done} == {
        "reference.fetch.done": 1, "reference.transcribe.done": 1, "reference.extract.done": 1}


def test_a_stage_that_sends_its_next_message_settles_it(broker, settings, conn):
    """The normal run: the worker sends the next stage's message and clears the mark, so the
    intake never sends a second one."""

    from jobs.winners import enqueue_submission

    _instant_runtime(settings)
    listener = start_listener(settings)
    fetcher = Worker(broker, queues={"fetch"}, worker_threads=1, worker_timeout=100)
    fetcher.start()
    try:
        rid = enqueue_submission(ReferenceSubmission(
            url="https://www.tiktok.com/@shop/video/7330000000000000002", submitted_by="test")).id
        broker.join("fetch")
        fetcher.join()
        row = conn.execute("SELECT status, message_owed_since FROM reference_videos WHERE id = %s",
                           (rid,)).fetchone()
        assert row["status"] == "needs_transcription" and row["message_owed_since"] is None
        time.sleep(OWED_GRACE_S + OWED_CHECK_S + 0.5)  # an owed check after the grace
    finally:
        fetcher.stop()
        listener.stop()
    transcribe = [json.loads(p) for p in broker.client.hvals(f"{broker.namespace}:transcribe.msgs")]
    assert [m["args"][0] for m in transcribe] == [str(rid)]


def test_a_late_settle_leaves_the_next_stages_debt(broker, settings, conn):
    """A sender that settles after a fast worker already finished the stage its message was for
    must not clear the mark the finish set for the next stage's message."""

    rt = _instant_runtime(settings)
    rid = submit_reference(rt.pool, ReferenceSubmission(
        url="https://www.tiktok.com/@shop/video/7330000000000000003", submitted_by="test")).id
    rt.pipeline.run_stage(Stage.FETCH, rid, "m-fetch")
    settle(rt.pool, [rid], Stage.FETCH)  # the enqueuer's settle of the fetch message, late
    owed = conn.execute("SELECT message_owed_since FROM reference_videos WHERE id = %s", (rid,)).fetchone()
    assert owed["message_owed_since"] is not None
    settle(rt.pool, [rid], Stage.TRANSCRIBE)
    owed = conn.execute("SELECT message_owed_since FROM reference_videos WHERE id = %s", (rid,)).fetchone()
    assert owed["message_owed_since"] is None
