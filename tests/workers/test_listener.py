"""Rows inserted straight into reference_videos (as the web app's admin page does) are taken in
within seconds through LISTEN/NOTIFY, once across listeners, with the sweep as a backstop."""

from __future__ import annotations

import json
import time
import psycopg
import pytest

from workers.listener import IntakeListener

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
    from flashflow_core.winners.submit import ReferenceSubmission
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
    from flashflow_core.winners.submit import ReferenceSubmission, submit_reference
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
    import redis

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
