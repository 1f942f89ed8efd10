"""expire_assignments on the real database: what expires, what is written, what is left alone."""

from __future__ import annotations

import threading
import uuid

import psycopg

from flashflow_core.assignments.expiry import expire_assignments
from tests.flashflow_core.job_rows import make_user, make_video, one

PAST = "now() - interval '1 minute'"


def assigned(conn, user, *, expires: str = PAST, role: str = "recorder") -> uuid.UUID:
    video = make_video(conn)
    conn.execute(f"""UPDATE videos SET assignment_state = 'ASSIGNED', assigned_to = %s, assigned_role = %s,
                     assigned_at = now() - interval '2 hours', assigned_expires_at = {expires} WHERE id = %s""",
                 (user, role, video))
    return video


def test_expired_assignments_go_back_with_an_event_and_a_notification(conn, pool):
    alice, bob = make_user(conn), make_user(conn)
    expired = assigned(conn, alice, role="editor")
    running = assigned(conn, bob, expires="now() + interval '1 hour'")

    result = expire_assignments(pool, batch_size=100, message_id="corr-1")

    assert (result.assignments, result.claims, result.notified) == (1, 0, 1)
    row = conn.execute("SELECT * FROM videos WHERE id = %s", (expired,)).fetchone()
    assert row["assignment_state"] == "AVAILABLE"
    assert (row["assigned_to"], row["assigned_role"], row["assigned_at"], row["assigned_expires_at"]) == (None,) * 4
    assert one(conn, "SELECT assignment_state FROM videos WHERE id = %s", running) == "ASSIGNED"
    event = conn.execute("SELECT * FROM video_events WHERE video_id = %s", (expired,)).fetchone()
    assert event["event_type"] == "assignment_expired" and event["actor"] == "system"
    assert event["payload"]["previous_assignee"] == str(alice)
    assert event["payload"]["previous_role"] == "editor"
    assert event["payload"]["correlation_id"] == "corr-1"
    note = conn.execute("SELECT * FROM notifications").fetchone()
    assert (note["user_id"], note["type"], note["video_id"]) == (alice, "assignment_expired", expired)
    assert note["payload"]["role"] == "editor"
    audit = conn.execute("SELECT * FROM audit_log").fetchall()
    assert len(audit) == 1 and audit[0]["correlation_id"] == audit[0]["message_id"] == "corr-1"
    assert audit[0]["event_type"] == "job.expire_assignments"
    assert audit[0]["details"]["assignments_expired"] == 1 and audit[0]["details"]["claims_expired"] == 0


def test_a_second_run_finds_nothing_but_still_audits(conn, pool):
    assigned(conn, make_user(conn))
    expire_assignments(pool, batch_size=100, message_id="first")
    again = expire_assignments(pool, batch_size=100, message_id="second")
    assert (again.assignments, again.notified) == (0, 0)
    assert one(conn, "SELECT count(*) FROM video_events") == 1
    assert one(conn, "SELECT count(*) FROM notifications") == 1
    assert one(conn, "SELECT count(*) FROM audit_log") == 2


def test_bounded_batches_cover_every_due_row(conn, pool):
    user = make_user(conn)
    for _ in range(7):
        assigned(conn, user)
    result = expire_assignments(pool, batch_size=3, message_id="c")
    assert result.assignments == 7
    # 3 + 3 + 1 for assignments, then one empty claims batch.
    assert result.batches == 4
    assert one(conn, "SELECT count(*) FROM videos WHERE assignment_state = 'ASSIGNED'") == 0
    assert one(conn, "SELECT count(*) FROM notifications WHERE user_id = %s", user) == 7


def test_legacy_claims_are_cleared_and_a_claimant_with_a_user_id_is_notified(conn, pool):
    claimant = make_user(conn)
    by_id = make_video(conn)
    by_email = make_video(conn)
    live = make_video(conn)
    conn.execute("""UPDATE videos SET claimed_by = %s, claim_role = 'uploader', claimed_at = now() - interval '1 hour',
                    claim_expires_at = now() - interval '1 second' WHERE id = %s""", (str(claimant).upper(), by_id))
    conn.execute("""UPDATE videos SET claimed_by = 'someone@example.test', claim_role = 'editor',
                    claim_expires_at = now() - interval '1 second' WHERE id = %s""", (by_email,))
    conn.execute("UPDATE videos SET claimed_by = 'x', claim_expires_at = now() + interval '1 hour' WHERE id = %s",
                 (live,))

    result = expire_assignments(pool, batch_size=100, message_id="c")

    assert (result.assignments, result.claims, result.notified) == (0, 2, 1)
    for video in (by_id, by_email):
        row = conn.execute("SELECT claimed_by, claimed_at, claim_expires_at, claim_role FROM videos WHERE id = %s",
                           (video,)).fetchone()
        assert set(row.values()) == {None}
    assert one(conn, "SELECT claimed_by FROM videos WHERE id = %s", live) == "x"
    payloads = {r["video_id"]: r["payload"] for r in conn.execute("SELECT video_id, payload FROM video_events")}
    assert payloads[by_email]["kind"] == "claim" and payloads[by_email]["previous_assignee"] == "someone@example.test"
    assert payloads[by_id]["previous_role"] == "uploader"
    assert one(conn, "SELECT video_id FROM notifications WHERE user_id = %s", claimant) == by_id


def test_a_video_being_reassigned_meanwhile_is_left_alone(conn, db_url, pool):
    """A re-assignment in flight holds the row: the sweep skips it rather than waiting, and
    once the re-assignment commits the video stays with its new assignee."""
    old, new = make_user(conn), make_user(conn)
    contested = assigned(conn, old)
    other = assigned(conn, old)
    with psycopg.connect(db_url) as reassigning:
        reassigning.execute("""UPDATE videos SET assigned_to = %s, assigned_at = now(),
                               assigned_expires_at = now() + interval '4 hours' WHERE id = %s""", (new, contested))
        done = threading.Event()
        results = []

        def sweep() -> None:
            results.append(expire_assignments(pool, batch_size=100, message_id="c"))
            done.set()

        threading.Thread(target=sweep).start()
        assert done.wait(30), "the sweep must not wait for the row another transaction holds"
        reassigning.commit()
    assert results[0].assignments == 1
    row = conn.execute("SELECT assignment_state, assigned_to FROM videos WHERE id = %s", (contested,)).fetchone()
    assert (row["assignment_state"], row["assigned_to"]) == ("ASSIGNED", new)
    assert one(conn, "SELECT assignment_state FROM videos WHERE id = %s", other) == "AVAILABLE"
    assert one(conn, "SELECT count(*) FROM notifications WHERE video_id = %s", contested) == 0
    assert expire_assignments(pool, batch_size=100, message_id="c2").assignments == 0


def test_a_video_released_meanwhile_is_not_expired(conn, db_url, pool):
    """A row that stopped matching while locked by another transaction is re-checked."""
    user = make_user(conn)
    video = assigned(conn, user)
    with psycopg.connect(db_url) as releasing:
        releasing.execute("""UPDATE videos SET assignment_state = 'RELEASED', assigned_to = NULL,
                             assigned_expires_at = NULL WHERE id = %s""", (video,))
        releasing.commit()
    assert expire_assignments(pool, batch_size=100, message_id="c").assignments == 0
    assert one(conn, "SELECT assignment_state FROM videos WHERE id = %s", video) == "RELEASED"
    assert one(conn, "SELECT count(*) FROM video_events") == 0
