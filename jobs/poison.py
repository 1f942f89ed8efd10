"""Decides whether a payload fetched from Redis is a message a worker can run.

Dramatiq 2.2.1 decodes inside its Redis consumer; one payload that does not decode makes the
consumer raise and restart, and the good messages of the same batch stay in that worker's ack
set. `check_message` turns every way a payload can be wrong into `PoisonMessage` with a reason
a producer can act on, so the consumer dead-letters it and goes on with the batch.
"""

from __future__ import annotations

import json
from typing import Any

import dramatiq
from dramatiq.common import q_name
from dramatiq.errors import ActorNotFound
from dramatiq.message import Message
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from jobs.public import ArgumentsInvalid, validate_arguments


class PoisonMessage(Exception):
    """A payload that can never run; `kind` is a short label, the message says why."""

    def __init__(self, kind: str, reason: str, fields: dict[str, Any] | None = None) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason
        self.fields = fields or {}


class MessageOptions(BaseModel):
    """The options a producer must set; Dramatiq and its middleware add others."""

    model_config = ConfigDict(extra="allow", strict=True)
    redis_message_id: str = Field(min_length=1, description="The key of this payload in <queue>.msgs.")


class Envelope(BaseModel):
    """The JSON a Dramatiq message is stored as: exactly these seven fields."""

    model_config = ConfigDict(extra="forbid", strict=True, title="Dramatiq message")
    queue_name: str = Field(min_length=1, description="The queue the id was pushed on.")
    actor_name: str = Field(min_length=1, description="The actor to run.")
    args: list[Any] = Field(description="Positional arguments (prefer kwargs and send []).")
    kwargs: dict[str, Any] = Field(description="Keyword arguments, as in the job's JSON Schema.")
    options: MessageOptions
    message_id: str = Field(min_length=1, description="Unique per job; stays the same across retries.")
    message_timestamp: int = Field(ge=0, description="When it was first sent, in milliseconds since the epoch.")


def check_message(data: bytes | str | None, redis_message_id: str, queue_name: str,
                  broker: dramatiq.Broker) -> Message:
    """Decode `data` fetched from `queue_name` under `redis_message_id`, or raise PoisonMessage."""
    if data is None:
        raise PoisonMessage("missing_payload", f"id {redis_message_id!r} was pushed on {queue_name!r} but "
                            f"has no payload in {queue_name}.msgs (HSET and RPUSH must use the same id)")
    fields = _decode_json(data)
    envelope = _envelope(fields)
    known = {"message_id": envelope.message_id, "actor_name": envelope.actor_name}
    if envelope.options.redis_message_id != redis_message_id:
        raise PoisonMessage("id_mismatch", f"options.redis_message_id is {envelope.options.redis_message_id!r} "
                            f"but the payload is stored under {redis_message_id!r}; they must be equal", known)
    if envelope.queue_name != queue_name:
        raise PoisonMessage("wrong_queue", f"queue_name is {envelope.queue_name!r} but the message was pushed "
                            f"on {queue_name!r}", known)
    try:
        actor = broker.get_actor(envelope.actor_name)
    except ActorNotFound:
        names = ", ".join(sorted(broker.get_declared_actors()))
        raise PoisonMessage("unknown_actor", f"no actor named {envelope.actor_name!r} (known: {names})",
                            known) from None
    if actor.queue_name != q_name(queue_name):
        raise PoisonMessage("wrong_queue", f"actor {actor.actor_name!r} runs on queue {actor.queue_name!r}, "
                            f"not {q_name(queue_name)!r}", known)
    try:
        validate_arguments(actor, envelope.args, envelope.kwargs)
    except ArgumentsInvalid as exc:
        raise PoisonMessage("invalid_arguments", str(exc), known) from None
    fields["args"] = tuple(fields["args"])
    return Message(**fields)


def _decode_json(data: bytes | str) -> dict[str, Any]:
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
    except UnicodeDecodeError as exc:
        raise PoisonMessage("bad_json", f"the payload is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    try:
        fields = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PoisonMessage("bad_json", f"the payload is not valid JSON: {exc.msg} at line {exc.lineno} "
                            f"column {exc.colno}") from None
    except RecursionError:
        raise PoisonMessage("bad_json", "the payload's JSON is nested too deeply to decode") from None
    if not isinstance(fields, dict):
        raise PoisonMessage("bad_envelope", f"the payload is a JSON {type(fields).__name__}, not an object "
                            f"with the fields {', '.join(Envelope.model_fields)}")
    return fields


def _envelope(fields: dict[str, Any]) -> Envelope:
    try:
        return Envelope.model_validate(fields)
    except ValidationError as exc:
        known = {k: fields[k] for k in ("message_id", "actor_name") if isinstance(fields.get(k), str)}
        raise PoisonMessage("bad_envelope", describe_envelope_error(exc), known) from None


def describe_envelope_error(exc: ValidationError) -> str:
    """Name each wrong field of a message envelope in one line."""
    problems = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"])
        if err["type"] == "extra_forbidden":
            problems.append(f"unexpected top-level field {where!r}")
        elif err["type"] == "missing":
            problems.append(f"missing field {where!r}")
        else:
            problems.append(f"{where}: {err['msg']}")
    allowed = ", ".join(Envelope.model_fields)
    return f"the message envelope is wrong: {'; '.join(problems)} (a message has exactly: {allowed})"
