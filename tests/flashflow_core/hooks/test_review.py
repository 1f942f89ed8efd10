"""review_hook_suggestion on the real database."""

from __future__ import annotations

import uuid

import pytest

from flashflow_core.hooks.normalize import hook_hash
from flashflow_core.hooks.review import ReviewRefused, review_hook_suggestion
from tests.flashflow_core.hooks.hook_rows import posted_video
from tests.flashflow_core.job_rows import insert, one


def suggestion(conn, text="Stop scrolling", brand="Glow", hook_type="spoken"):
    video = posted_video(conn, brand=brand or "x")
    return insert(conn, "hook_suggestions", source_video_id=video, brand_name=brand, hook_type=hook_type,
                  hook_text=text, hook_hash=hook_hash(text),
                  product_id=one(conn, "SELECT product_id FROM videos WHERE id = %s", video))


def test_approval_creates_the_proven_hook_and_records_the_reviewer(conn, pool):
    s = suggestion(conn)
    admin = uuid.uuid4()
    result = review_hook_suggestion(pool, suggestion_id=s["id"], decision="approve", reviewed_by=admin,
                                    note="great hook", message_id="corr")
    assert (result.outcome, result.approved_count) == ("approved", 1)
    row = conn.execute("SELECT * FROM hook_suggestions WHERE id = %s", (s["id"],)).fetchone()
    assert (row["status"], row["reviewed_by"], row["review_note"]) == ("approved", admin, "great hook")
    assert row["reviewed_at"] is not None
    hook = conn.execute("SELECT * FROM proven_hooks").fetchone()
    assert hook["id"] == result.proven_hook_id
    assert (hook["brand_name"], hook["hook_type"], hook["hook_text"], hook["hook_hash"]) == (
        "Glow", "spoken", "Stop scrolling", s["hook_hash"])
    assert (hook["approved_count"], hook["approved_by"], hook["source_video_id"], hook["product_id"]) == (
        1, str(admin), s["source_video_id"], s["product_id"])
    [audit] = conn.execute("SELECT * FROM audit_log").fetchall()
    assert (audit["event_type"], audit["entity_id"], audit["actor"], audit["message_id"], audit["correlation_id"]) == (
        "hook.review.approved", str(s["id"]), str(admin), "corr", "corr")


def test_approving_a_hook_the_brand_has_counts_it_again(conn, pool):
    insert(conn, "proven_hooks", brand_name="Glow", hook_type="spoken", hook_text="Stop scrolling!",
           hook_hash=hook_hash("stop scrolling"), approved_count=2, approved_by="first-admin")
    s = suggestion(conn, text="STOP SCROLLING")
    second = uuid.uuid4()
    result = review_hook_suggestion(pool, suggestion_id=s["id"], decision="approve", reviewed_by=second,
                                    note=None, message_id="c")
    assert result.approved_count == 3
    assert one(conn, "SELECT count(*) FROM proven_hooks") == 1
    assert one(conn, "SELECT approved_by FROM proven_hooks") == str(second)
    assert one(conn, "SELECT hook_text FROM proven_hooks") == "Stop scrolling!"


def test_rejection_is_recorded_and_adds_no_hook(conn, pool):
    s = suggestion(conn)
    result = review_hook_suggestion(pool, suggestion_id=s["id"], decision="reject", reviewed_by=uuid.uuid4(),
                                    note="off brand", message_id="c")
    assert result.outcome == "rejected"
    row = conn.execute("SELECT status, reviewed_at, review_note FROM hook_suggestions").fetchone()
    assert (row["status"], row["review_note"]) == ("rejected", "off brand") and row["reviewed_at"] is not None
    assert one(conn, "SELECT count(*) FROM proven_hooks") == 0


def test_a_second_review_changes_nothing(conn, pool):
    s = suggestion(conn)
    first = uuid.uuid4()
    review_hook_suggestion(pool, suggestion_id=s["id"], decision="approve", reviewed_by=first, note=None,
                           message_id="c1")
    again = review_hook_suggestion(pool, suggestion_id=s["id"], decision="reject", reviewed_by=uuid.uuid4(),
                                   note="late", message_id="c2")
    assert again.outcome == "already_reviewed"
    row = conn.execute("SELECT status, reviewed_by FROM hook_suggestions").fetchone()
    assert (row["status"], row["reviewed_by"]) == ("approved", first)
    assert one(conn, "SELECT approved_count FROM proven_hooks") == 1
    assert one(conn, "SELECT count(*) FROM audit_log") == 2


def test_missing_suggestion_and_brandless_approval(conn, pool):
    assert review_hook_suggestion(pool, suggestion_id=uuid.uuid4(), decision="approve", reviewed_by=uuid.uuid4(),
                                  note=None, message_id="c").outcome == "missing"
    s = suggestion(conn, brand=None)
    with pytest.raises(ReviewRefused, match="has no brand_name"):
        review_hook_suggestion(pool, suggestion_id=s["id"], decision="approve", reviewed_by=uuid.uuid4(),
                               note=None, message_id="c")
    assert one(conn, "SELECT status FROM hook_suggestions WHERE id = %s", s["id"]) == "pending"
    with pytest.raises(ReviewRefused, match="decision must be 'approve' or 'reject'"):
        review_hook_suggestion(pool, suggestion_id=s["id"], decision="maybe", reviewed_by=uuid.uuid4(),  # type: ignore[arg-type]
                               note=None, message_id="c")
