"""rollup_hook_stats: counts recomputed from the videos."""

from __future__ import annotations

from flashflow_core.hooks.normalize import hook_hash
from flashflow_core.hooks.rollup import rollup_hook_stats
from flashflow_core.hooks.suggestions import extract_hook_suggestions
from tests.flashflow_core.hooks.hook_rows import posted_video
from tests.flashflow_core.job_rows import insert, one


def counts(conn, table, where, *params):
    row = conn.execute(f"SELECT posted_count, winner_count FROM {table} WHERE {where}", params).fetchone()
    return row["posted_count"], row["winner_count"]


def test_posted_and_winner_counts_from_the_videos(conn, pool):
    hook = insert(conn, "proven_hooks", brand_name="Glow", hook_type="spoken", hook_text="Stop scrolling",
                  hook_hash=hook_hash("stop scrolling"), posted_count=99, winner_count=99)
    unused = insert(conn, "proven_hooks", brand_name="Glow", hook_type="visual", hook_text="Never used",
                    hook_hash=hook_hash("never used"), posted_count=4, winner_count=1)
    other_brand = insert(conn, "proven_hooks", brand_name="Other", hook_type="spoken", hook_text="Stop scrolling",
                         hook_hash=hook_hash("stop scrolling"))
    videos = [posted_video(conn, script_text=text, library={"hook_text": "x"})
              for text in ("Stop scrolling!", "STOP SCROLLING", "stop, scrolling 🛑", "Something else")]
    draft = posted_video(conn, script_text="Stop scrolling", status="EDITED")
    for video in videos + [draft]:
        extract_hook_suggestions(pool, video_id=video, message_id="c")
    conn.execute("UPDATE videos SET recording_status = 'EDITED' WHERE id = %s", (videos[2],))  # unposted since
    for video in (videos[0], videos[3]):
        insert(conn, "video_events", video_id=video, event_type="marked_winner", actor="admin")
    insert(conn, "video_events", video_id=videos[0], event_type="marked_winner", actor="admin")  # marked twice
    library = one(conn, "SELECT script_library_id FROM videos WHERE id = %s", videos[0])
    conn.execute("UPDATE videos SET script_library_id = %s WHERE id = ANY(%s)", (library, [videos[1], draft]))

    result = rollup_hook_stats(pool, message_id="corr")

    assert counts(conn, "proven_hooks", "id = %s", hook["id"]) == (2, 1)
    assert counts(conn, "proven_hooks", "id = %s", unused["id"]) == (0, 0)
    assert counts(conn, "proven_hooks", "id = %s", other_brand["id"]) == (0, 0)
    assert counts(conn, "script_library", "id = %s", library) == (2, 1)
    # Changed: the used hook (99/99 -> 2/1) and the unused one (4/1 -> 0/0); the other brand's
    # was 0/0 already. Library rows changed: videos[0]'s (2/1) and videos[3]'s (1/1).
    assert result.proven_hooks_updated == 2
    assert result.scripts_updated == 2
    [audit] = conn.execute("SELECT * FROM audit_log WHERE event_type = 'job.rollup_hook_stats'").fetchall()
    assert audit["details"] == {"proven_hooks_updated": 2, "scripts_updated": 2}
    assert audit["correlation_id"] == audit["message_id"] == "corr"


def test_a_second_rollup_writes_nothing(conn, pool):
    insert(conn, "proven_hooks", brand_name="Glow", hook_type="spoken", hook_text="Hook",
           hook_hash=hook_hash("hook"), posted_count=3)
    assert rollup_hook_stats(pool, message_id="c1").proven_hooks_updated == 1
    assert rollup_hook_stats(pool, message_id="c2").proven_hooks_updated == 0
