"""The hook actors through a real worker: the posting event, a review, and payloads that are
refused at once (dead-lettered without retries)."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.conftest import drain
from tests.flashflow_core.hooks.hook_rows import posted_video
from tests.flashflow_core.job_rows import insert, one


def dead_letters(broker) -> dict[str, dict]:
    raw = broker.client.hgetall(f"{broker.namespace}:default.XQ.msgs")
    return {m["message_id"]: m for m in (json.loads(value) for value in raw.values())}


def test_a_posted_video_event_suggests_its_hooks(broker, worker, conn):
    from jobs.hooks import enqueue_hook_extraction

    video = posted_video(conn, script_json={"hook": "Wait for it"}, concept={"on_screen_text_hook": "Day 30"})
    enqueue_hook_extraction(video)
    drain(broker, worker)
    assert {r["hook_text"] for r in conn.execute("SELECT hook_text FROM hook_suggestions")} == {"Wait for it", "Day 30"}
    assert one(conn, "SELECT video_id FROM flashflow_hook_extractions") == video


def test_a_review_message_approves_into_proven_hooks(broker, worker, conn):
    from jobs.hooks import review_hook_suggestion

    video = posted_video(conn)
    suggestion = insert(conn, "hook_suggestions", source_video_id=video, brand_name="Glow", hook_type="text",
                        hook_text="Day 30", hook_hash="h")["id"]
    admin = uuid.uuid4()
    message = review_hook_suggestion.send(str(suggestion), "approve", str(admin), "nice")
    drain(broker, worker)
    assert one(conn, "SELECT status FROM hook_suggestions") == "approved"
    assert one(conn, "SELECT approved_by FROM proven_hooks") == str(admin)
    assert one(conn, "SELECT message_id FROM audit_log") == message.message_id
    assert one(conn, "SELECT correlation_id FROM audit_log") == message.message_id


@pytest.mark.parametrize(("actor", "args"), [
    ("extract_hook_suggestions", ("not-a-uuid",)),
    ("review_hook_suggestion", (str(uuid.uuid4()), "maybe", str(uuid.uuid4()))),
    ("sweep_hook_suggestions", (0,)),
    ("expire_assignments", (0,)),
    ("renew_credits", ("many",)),
])
def test_bad_payloads_fail_at_once_without_retries(broker, worker, conn, actor, args):
    message = broker.get_actor(actor).send(*args)
    drain(broker, worker)
    failed = dead_letters(broker)
    assert message.message_id in failed
    assert "retries" not in failed[message.message_id]["options"]
    assert one(conn, "SELECT count(*) FROM audit_log WHERE event_type ~ '^(job|hook)[.]'") == 0


def test_approving_a_brandless_suggestion_is_refused_without_retries(broker, worker, conn):
    from jobs.hooks import review_hook_suggestion

    suggestion = insert(conn, "hook_suggestions", source_video_id=posted_video(conn), brand_name=None,
                        hook_type="text", hook_text="x", hook_hash="h")["id"]
    message = review_hook_suggestion.send(str(suggestion), "approve", str(uuid.uuid4()))
    drain(broker, worker)
    assert message.message_id in dead_letters(broker)
    assert one(conn, "SELECT status FROM hook_suggestions") == "pending"
