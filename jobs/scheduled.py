"""Ties schedules.yaml to the actors: checks that each entry names a known actor with keyword
arguments it accepts, builds the message a tick sends, and gives a run its correlation id.

The arguments are checked as the worker's consumer checks them (`jobs.public`: the actor's
signature, then its payload model or type hints, constraints included), so a schedule with a
misspelt or ill-typed argument stops the scheduler at start, not the worker at 3 a.m.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import dramatiq
from dramatiq import Message
from dramatiq.middleware import CurrentMessage

from flashflow_core.db.audit import new_correlation_id
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


def correlation_id() -> str:
    """The id tying a job run's audit rows together: its message id (which the scheduler's fire
    ledger also records), or a fresh one when the actor is called directly."""
    message = CurrentMessage.get_current_message()
    return message.message_id if message is not None else new_correlation_id()
