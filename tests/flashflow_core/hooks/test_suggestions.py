"""extract_hook_suggestions and the sweep, on the real database."""

from __future__ import annotations

import uuid

from flashflow_core.hooks.normalize import hook_hash
from flashflow_core.hooks.suggestions import extract_hook_suggestions, sweep_unextracted
from tests.flashflow_core.hooks.hook_rows import posted_video
from tests.flashflow_core.job_rows import insert, one


def suggestions(conn):
    return {(r["hook_type"], r["hook_text"]): r for r in conn.execute("SELECT * FROM hook_suggestions").fetchall()}


def test_spoken_visual_and_text_hooks_become_pending_suggestions(conn, pool):
    video = posted_video(conn, script_json={"hook": "Stop scrolling!", "body": "..."},
                         script_text="Ignored first line\nbody",
                         concept={"visual_hook": "Pour serum on glass", "on_screen_text_hook": "Day 1 vs day 30"},
                         library={"hook_visual": "Close-up of skin", "hook_text": "DAY 1 vs DAY 30!!"})

    result = extract_hook_suggestions(pool, video_id=video, message_id="corr")

    assert (result.outcome, result.hooks_found, result.suggested) == ("extracted", 4, 4)
    got = suggestions(conn)
    assert set(got) == {("spoken", "Stop scrolling!"), ("visual", "Pour serum on glass"),
                        ("visual", "Close-up of skin"), ("text", "Day 1 vs day 30")}
    row = got[("spoken", "Stop scrolling!")]
    assert (row["status"], row["brand_name"], row["source_video_id"]) == ("pending", "Glow", video)
    assert row["hook_hash"] == hook_hash("stop scrolling")
    assert row["product_id"] == one(conn, "SELECT product_id FROM videos WHERE id = %s", video)
    [audit] = conn.execute("SELECT * FROM audit_log").fetchall()
    assert (audit["event_type"], audit["entity_id"], audit["message_id"], audit["correlation_id"]) == (
        "job.extract_hook_suggestions", str(video), "corr", "corr")
    assert audit["details"]["suggested"] == 4


def test_first_line_of_the_locked_text_when_the_json_has_no_hook(conn, pool):
    video = posted_video(conn, script_json={"body": "b"}, script_text="\n  You won't believe this  \nrest")
    extract_hook_suggestions(pool, video_id=video, message_id="c")
    assert set(suggestions(conn)) == {("spoken", "You won't believe this")}


def test_running_twice_adds_nothing(conn, pool):
    video = posted_video(conn, script_text="Hook line", concept={"visual_hook": "Visual"})
    extract_hook_suggestions(pool, video_id=video, message_id="c1")
    again = extract_hook_suggestions(pool, video_id=video, message_id="c2")
    assert (again.hooks_found, again.suggested) == (2, 0)
    assert one(conn, "SELECT count(*) FROM hook_suggestions") == 2
    assert one(conn, "SELECT count(*) FROM flashflow_video_hooks") == 2


def test_what_the_brand_already_has_is_skipped(conn, pool):
    first = posted_video(conn, script_text="Stop scrolling", concept={"visual_hook": "Rejected visual"})
    extract_hook_suggestions(pool, video_id=first, message_id="c")
    conn.execute("UPDATE hook_suggestions SET status = 'rejected' WHERE hook_type = 'visual'")
    insert(conn, "proven_hooks", brand_name="Glow", hook_type="text", hook_text="Day 1", hook_hash=hook_hash("day 1"))

    # Same hooks written differently, plus one new: only the new one is suggested.
    second = posted_video(conn, script_text="STOP. SCROLLING. 🛑", concept={
        "visual_hook": "rejected VISUAL", "on_screen_text_hook": "day 1!"},
        library={"hook_text": "Brand new text"})
    result = extract_hook_suggestions(pool, video_id=second, message_id="c")

    assert (result.hooks_found, result.suggested) == (4, 1)
    assert [r["hook_text"] for r in conn.execute(
        "SELECT hook_text FROM hook_suggestions WHERE source_video_id = %s", (second,))] == ["Brand new text"]
    # Another brand with the same hook gets its own suggestion.
    other = posted_video(conn, brand="Other Brand", script_text="Stop scrolling")
    assert extract_hook_suggestions(pool, video_id=other, message_id="c").suggested == 1


def test_videos_not_posted_missing_or_without_a_brand_are_skipped(conn, pool):
    draft = posted_video(conn, script_text="Hook", status="EDITED")
    brandless = posted_video(conn, brand=None, script_text="Hook")
    outcomes = [extract_hook_suggestions(pool, video_id=v, message_id="c").outcome
                for v in (draft, brandless, uuid.uuid4())]
    assert outcomes == ["not_posted", "no_brand", "missing"]
    assert one(conn, "SELECT count(*) FROM hook_suggestions") == 0
    assert one(conn, "SELECT count(*) FROM flashflow_hook_extractions") == 0
    assert one(conn, "SELECT count(*) FROM audit_log") == 3


def test_sweep_finds_posted_videos_never_extracted(conn, pool):
    done = posted_video(conn, script_text="Hook A")
    todo = posted_video(conn, script_text="Hook B")
    no_hooks = posted_video(conn)
    posted_video(conn, script_text="Hook C", status="READY_TO_POST")
    extract_hook_suggestions(pool, video_id=done, message_id="c")

    assert set(sweep_unextracted(pool, limit=100, message_id="sweep")) == {todo, no_hooks}
    # A video whose hooks are all known (or that has none) is not swept again once read.
    extract_hook_suggestions(pool, video_id=no_hooks, message_id="c")
    assert sweep_unextracted(pool, limit=100, message_id="sweep2") == [todo]
    assert len(sweep_unextracted(pool, limit=1, message_id="sweep3")) == 1
    assert one(conn, "SELECT count(*) FROM audit_log WHERE event_type = 'job.sweep_hook_suggestions'") == 3
