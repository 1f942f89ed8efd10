"""schedules.yaml against the real actors: the repository's file checks out, mistakes are
named, and every schedule's message runs its job through a real worker."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from flashflow_core.scheduling.schedule_file import ScheduleError, load_schedules, parse_schedules
from jobs.scheduled import check_schedules, tick_message
from tests.conftest import ROOT, drain
from tests.flashflow_core.hooks.hook_rows import posted_video
from tests.flashflow_core.job_rows import insert, make_user, make_video, one


@pytest.fixture
def actors(broker):
    return {name: broker.get_actor(name) for name in broker.get_declared_actors()}


def test_repository_schedules_name_real_actors_with_valid_kwargs(actors):
    check_schedules(load_schedules(ROOT / "schedules.yaml"), actors)


@pytest.mark.parametrize(("entry", "message"), [
    ({"actor": "expire_assignmnts"}, "schedule 'x': unknown actor 'expire_assignmnts'"),
    ({"actor": "expire_assignments", "kwargs": {"batch": 10}},
     "schedule 'x': bad kwargs: the arguments do not fit expire_assignments"),
    ({"actor": "expire_assignments", "kwargs": {"batch_size": "lots"}},
     "batch_size: Input should be a valid integer"),
    ({"actor": "renew_credits", "kwargs": {"batch_size": 0}}, "batch_size: Input should be greater than or equal to 1"),
    ({"actor": "extract_hook_suggestions"}, "missing a required argument: 'video_id'"),
    ({"actor": "extract_hook_suggestions", "kwargs": {"video_id": "nope"}}, "video_id: Input should be a valid UUID"),
    ({"actor": "rescue_stuck_references", "kwargs": {"quiet_s": "soon"}}, "quiet_s: Input should be a valid number"),
])
def test_bad_actor_or_kwargs_are_named(actors, entry, message):
    entries = parse_schedules({"schedules": [{"name": "x", "every": 60, **entry}]})
    with pytest.raises(ScheduleError) as caught:
        check_schedules(entries, actors)
    assert message in str(caught.value)


def test_tick_message_carries_schedule_and_fire_time(actors):
    [entry] = parse_schedules({"schedules": [{"name": "x", "actor": "renew_credits", "cron": "@hourly",
                                              "kwargs": {"batch_size": 5}}]})
    tick = datetime(2026, 11, 26, 12, tzinfo=timezone.utc)
    message = tick_message(entry, actors["renew_credits"], tick)
    assert (message.actor_name, message.kwargs, message.queue_name) == ("renew_credits", {"batch_size": 5}, "default")
    assert message.options["flashflow_schedule"] == "x"
    assert message.options["flashflow_fire_time"] == tick.isoformat()


def test_every_schedule_runs_its_job_through_a_worker(broker, worker, actors, conn):
    """Each schedules.yaml entry's message, as the scheduler sends it, does its job on real
    Postgres and Redis, and its audit row carries the message id as correlation id."""
    user = make_user(conn)
    video = make_video(conn)
    conn.execute("""UPDATE videos SET assignment_state = 'ASSIGNED', assigned_to = %s, assigned_role = 'editor',
                    assigned_expires_at = now() - interval '1 minute' WHERE id = %s""", (user, video))
    insert(conn, "user_subscriptions", user_id=user, plan_id="starter", status="active", billing_period="monthly",
           current_period_start=datetime(2026, 1, 1, tzinfo=timezone.utc),
           current_period_end=datetime(2026, 2, 1, tzinfo=timezone.utc))
    posted = posted_video(conn, script_text="Stop scrolling", concept={"visual_hook": "Pour"})

    sent = {}
    for entry in load_schedules(ROOT / "schedules.yaml"):
        message = tick_message(entry, actors[entry.actor], datetime.now(timezone.utc))
        broker.enqueue(message)
        sent[entry.actor] = message.message_id
    drain(broker, worker)

    assert one(conn, "SELECT assignment_state FROM videos WHERE id = %s", video) == "AVAILABLE"
    assert one(conn, "SELECT credits_remaining FROM user_credits WHERE user_id = %s", user) == 75
    # The sweep fanned out one extraction for the posted video, which suggested its two hooks.
    assert one(conn, "SELECT count(*) FROM hook_suggestions WHERE source_video_id = %s", posted) == 2
    rows = conn.execute("SELECT * FROM audit_log").fetchall()
    audited = {r["event_type"]: r["message_id"] for r in rows}
    assert all(r["message_id"] == r["correlation_id"] for r in rows if r["event_type"].startswith("job."))
    for event, actor in [("job.expire_assignments", "expire_assignments"), ("job.renew_credits", "renew_credits"),
                         ("job.sweep_hook_suggestions", "sweep_hook_suggestions"),
                         ("job.rollup_hook_stats", "rollup_hook_stats")]:
        assert audited[event] == sent[actor], event
    assert {"job.extract_hook_suggestions", "job.rescue_stuck_references"} <= set(audited)
