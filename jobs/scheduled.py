"""Ties schedules.yaml to the actors: checks that each entry names a known actor with keyword
arguments it accepts, and builds the message a tick sends.

The arguments are checked as the worker's consumer checks them (`jobs.public`: the actor's
signature, then its payload model or type hints, constraints included), so a schedule with a
misspelt or ill-typed argument stops the scheduler at start, not the worker at 3 a.m.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import dramatiq
from dramatiq import Message

from flashflow_core.scheduling.schedule_file import ScheduleEntry, ScheduleError
from jobs.public import ArgumentsInvalid, validate_arguments


def check_schedules(entries: list[ScheduleEntry], actors: dict[str, dramatiq.Actor]) -> None:
    """Raise ScheduleError naming the first entry whose actor or arguments are wrong."""
    for entry in entries:
        actor = actors.get(entry.actor)
        if actor is None:
            raise ScheduleError(
                f"schedule {entry.name!r}: unknown actor {entry.actor!r} (known: {', '.join(sorted(actors))})")
        try:
            validate_arguments(actor, (), entry.kwargs)
        except ArgumentsInvalid as exc:
            raise ScheduleError(f"schedule {entry.name!r}: bad kwargs: {exc}") from exc


def tick_message(entry: ScheduleEntry, actor: dramatiq.Actor, fire_time: datetime | None) -> Message:
    """The message one tick sends (its id is known before it is sent)."""
    options: dict[str, Any] = {"flashflow_schedule": entry.name}
    if fire_time is not None:
        options["flashflow_fire_time"] = fire_time.isoformat()
    return actor.message_with_options(kwargs=dict(entry.kwargs), **options)
