"""Schedules: each entry of schedules.yaml with its next fire and last fires from the ledger; Run now."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from flashflow_console.auth import action, actor
from flashflow_console.web import done, path, render, state
from flashflow_core.db.audit import write_audit
from flashflow_core.scheduling.ledger import leader, recent_fires
from flashflow_core.scheduling.schedule_file import ScheduleEntry, ScheduleError, load_schedules
from jobs.scheduled import check_schedules, tick_message

FIRES_SHOWN = 5


def _entries(request: Request) -> list[ScheduleEntry]:
    console = state(request)
    entries = load_schedules(console.settings.schedules_file)
    check_schedules(entries, console.runtime.actors)
    return entries


def schedules(request: Request) -> HTMLResponse:
    """Each schedule: timing, next fire, and its last fires."""
    console = state(request)
    try:
        entries = _entries(request)
    except ScheduleError as exc:
        return render(request, "schedules.html", error=str(exc), rows=[], leader=None)
    now = datetime.now(UTC)
    with console.pool.connection() as conn:
        fires = recent_fires(conn, FIRES_SHOWN)
        active = leader(conn)
    rows = [{"entry": e, "next": e.trigger.get_next_fire_time(None, now) if e.enabled else None,
             "fires": fires.get(e.name, [])} for e in entries]
    return render(request, "schedules.html", error=None, rows=rows, leader=active,
                  path_of=str(console.settings.schedules_file))


def _run_now(request: Request) -> Response:
    console = state(request)
    name = request.path_params["name"]
    here = path(request, "schedules")
    try:
        entry = next((e for e in _entries(request) if e.name == name), None)
    except ScheduleError as exc:
        return done(request, here, str(exc), ok=False)
    if entry is None:
        return done(request, here, f"no schedule named {name!r}", ok=False)
    actor_ = console.runtime.actors[entry.actor]
    message = actor_.broker.enqueue(tick_message(entry, actor_, None))
    with console.pool.connection() as conn:
        write_audit(conn, message_id=message.message_id, event_type="schedule.run_now", entity_type="schedule",
                    entity_id=entry.name, actor=actor(request),
                    summary=f"{entry.name}: sent {entry.actor} now (not a tick: the fire ledger is not written)",
                    details={"actor_name": entry.actor, "message_id": message.message_id, "kwargs": entry.kwargs})
    return done(request, here, f"sent {entry.actor} for {entry.name} (message {message.message_id})")


@action
async def run_now(request: Request, form: FormData) -> Response:
    """Send one schedule's message now (audited), as `flashflow schedule run` does."""
    return await run_in_threadpool(_run_now, request)
