"""The reference_videos transition trigger (migration 20261201000100) on its own: a status change
made by plain SQL — the web app as a signed-in admin, or anyone with a database role — is audited
once, attributed to who made it and never to the statement before it; `audit_context` is NULL at
rest; the counters reset when a person moves a row on, and are kept when one marks it failed."""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

import psycopg
import pytest
from psycopg import errors
from psycopg.types.json import Jsonb

from tests.schema.conftest import acting_as, insert

pytestmark = pytest.mark.embedded


def _audit(conn: psycopg.Connection, reference_id: UUID) -> list[dict]:
    return conn.execute("SELECT * FROM audit_log WHERE entity_id = %s ORDER BY created_at",
                        (str(reference_id),)).fetchall()


def _reference(conn: psycopg.Connection, **values) -> dict:
    return insert(conn, "reference_videos", url=f"https://example.com/{len(values)}-{id(values)}",
                  submitted_by="web", correlation_id="run-1", **values)


def test_a_web_app_update_is_audited_as_the_signed_in_user(conn: psycopg.Connection,
                                                           make_user: Callable[..., UUID]) -> None:
    admin = make_user(role="admin")
    row = _reference(conn, status="failed", error_message="fetch: 404", failed_stage="fetch", stage_attempts=2,
                     crash_count=1, resend_count=4, throttle_count=1)
    # The statement before left who it was: a later plain UPDATE must not inherit it.
    conn.execute("UPDATE reference_videos SET audit_context = %s WHERE id = %s",
                 (Jsonb({"event": "reference.noted", "actor": "cli:someone", "message_id": "m-old"}), row["id"]))
    with acting_as(conn, "authenticated", admin) as web:
        assert web.execute("UPDATE public.reference_videos SET status = 'queued' WHERE id = %s",
                           (row["id"],)).rowcount == 1

    noted, moved = _audit(conn, row["id"])
    assert (noted["actor"], noted["message_id"]) == ("cli:someone", "m-old")
    assert (moved["event_type"], moved["actor"], moved["message_id"], moved["correlation_id"]) == (
        "reference.status_changed", str(admin), None, "run-1")
    assert (moved["details"], moved["summary"]) == ({"from": "failed", "to": "queued"}, "failed -> queued")
    after = conn.execute("SELECT * FROM reference_videos WHERE id = %s", (row["id"],)).fetchone()
    assert after["audit_context"] is None
    assert after["status_changed_at"] > row["status_changed_at"]
    assert (after["stage_attempts"], after["crash_count"], after["resend_count"], after["throttle_count"],
            after["error_message"], after["failed_stage"]) == (0, 0, 0, 0, None, None)


def test_marking_a_row_failed_by_hand_keeps_its_error_and_counts(conn: psycopg.Connection) -> None:
    row = _reference(conn, status="processing", stage_attempts=2)
    conn.execute("UPDATE reference_videos SET audit_context = %s WHERE id = %s",
                 (Jsonb({"event": "reference.noted", "actor": "system", "message_id": "m-old"}), row["id"]))
    conn.execute("UPDATE reference_videos SET status = 'failed', error_message = 'extract: cancelled by ops' "
                 "WHERE id = %s", (row["id"],))
    _, moved = _audit(conn, row["id"])
    assert (moved["actor"], moved["message_id"], moved["details"]) == (
        f"sql:{conn.info.user}", None, {"from": "processing", "to": "failed"})
    after = conn.execute("SELECT * FROM reference_videos WHERE id = %s", (row["id"],)).fetchone()
    assert (after["error_message"], after["stage_attempts"]) == ("extract: cancelled by ops", 2)


def test_updates_that_change_no_status_write_nothing(conn: psycopg.Connection) -> None:
    row = _reference(conn, status="needs_file")
    conn.execute("UPDATE reference_videos SET notes = 'n', status = 'needs_file', lease_until = now() "
                 "WHERE id = %s", (row["id"],))
    assert _audit(conn, row["id"]) == []


def test_audit_context_is_never_stored(conn: psycopg.Connection) -> None:
    with pytest.raises(errors.CheckViolation):
        insert(conn, "reference_videos", url="https://example.com/x", submitted_by="web",
               audit_context=Jsonb({"actor": "x"}))


def test_audit_log_message_id_is_indexed(conn: psycopg.Connection) -> None:
    [index] = conn.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'audit_log' "
                           "AND indexdef LIKE '%%(message_id)%%'").fetchall()
    assert index["indexdef"].startswith("CREATE INDEX audit_log_message_id_idx")
