"""Records why Dramatiq dead-lettered a message (retries used up, an exception listed in the
actor's `throws`, an unknown actor) as an audit_log row, like the consumer does for poison."""

from __future__ import annotations

import logging

import dramatiq
from dramatiq.broker import MessageProxy
from dramatiq.errors import ActorNotFound
from dramatiq.middleware import SkipMessage

from flashflow_core.ops.dlq import DeadLetter, payload_excerpt, record_dead_letter
from flashflow_core.ops.redis_keys import base_queue
from jobs import runtime

log = logging.getLogger(__name__)


def audit_dead_letter(letter: DeadLetter) -> None:
    """Write the audit row for `letter` through the process's pool (the broker's dead-letter hook)."""
    with runtime.current().pool.connection() as conn:
        record_dead_letter(conn, letter)


class DeadLetterAudit(dramatiq.Middleware):
    """On every nack (a message going to its dead-letter queue), record the reason."""

    def before_nack(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        kind, reason = _why(broker, message)
        letter = DeadLetter(
            queue=base_queue(message.queue_name), redis_message_id=message.options["redis_message_id"],
            kind=kind, reason=reason[:2000], message_id=message.message_id, actor_name=message.actor_name,
            payload=payload_excerpt(message.encode()),
        )
        log.warning("message dead-lettered", extra={"queue": letter.queue, "kind": kind, "reason": letter.reason})
        record = getattr(broker, "record_dead_letter", None)
        if record is not None:
            record(letter)


def _why(broker: dramatiq.Broker, message: MessageProxy) -> tuple[str, str]:
    exc = message._exception
    if exc is None:
        return "rejected", "a middleware rejected the message"
    error = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, ActorNotFound):
        return "unknown_actor", error
    if isinstance(exc, SkipMessage):
        return "skipped", f"a middleware skipped it ({error})"
    actor = broker.get_actor(message.actor_name)
    throws = message.options.get("throws") or actor.options.get("throws")
    if throws and isinstance(exc, throws):
        return "not_retried", f"{error} (not retried: {actor.actor_name} lists {type(exc).__name__} in throws)"
    return "retries_exhausted", f"gave up after {message.options.get('retries', 0)} retries; last error {error}"
