"""Ties schedules.yaml to the actors: checks that each entry names a known actor with keyword
arguments its signature accepts, and builds the message a tick sends; and the correlation id a scheduled run audits under.

The arguments are checked against a pydantic model built from the actor function's signature
and type hints (constraints included, e.g. `Annotated[int, Field(ge=1)]`), so a schedule with
a misspelt or ill-typed argument stops the scheduler at start, not the worker at 3 a.m.
"""

from __future__ import annotations

import inspect
import typing
from datetime import datetime
from functools import cache
from typing import Any

import dramatiq
from dramatiq import Message
from dramatiq.middleware import CurrentMessage
from pydantic import BaseModel, ConfigDict, ValidationError, create_model

from flashflow_core.audit import new_correlation_id
from flashflow_core.scheduling.schedule_file import ScheduleEntry, ScheduleError


@cache
def arguments_model(fn: typing.Callable[..., Any]) -> type[BaseModel]:
    """A pydantic model of the keyword arguments `fn` accepts."""
    hints = typing.get_type_hints(fn, include_extras=True)
    fields: dict[str, Any] = {}
    extra = "forbid"
    for name, param in inspect.signature(fn).parameters.items():
        if param.kind is inspect.Parameter.VAR_KEYWORD:
            extra = "allow"
            continue
        if param.kind is inspect.Parameter.VAR_POSITIONAL:
            continue
        default = ... if param.default is inspect.Parameter.empty else param.default
        fields[name] = (hints.get(name, Any), default)
    return create_model(f"{fn.__name__}_arguments", __config__=ConfigDict(extra=extra), **fields)


def check_schedules(entries: list[ScheduleEntry], actors: dict[str, dramatiq.Actor]) -> None:
    """Raise ScheduleError naming the first entry whose actor or arguments are wrong."""
    for entry in entries:
        actor = actors.get(entry.actor)
        if actor is None:
            raise ScheduleError(
                f"schedule {entry.name!r}: unknown actor {entry.actor!r} (known: {', '.join(sorted(actors))})")
        try:
            arguments_model(actor.fn).model_validate(entry.kwargs)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or 'kwargs'}: {err['msg']}" for err in exc.errors())
            raise ScheduleError(f"schedule {entry.name!r}: bad kwargs for {entry.actor}: {problems}") from exc


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
