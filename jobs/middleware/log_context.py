"""Puts the message being processed into every log line its thread writes: `actor`,
`message_id`, `queue`, `correlation_id` when the message belongs to a run (the message option of
that name: set by the pipeline to the row's run, or by a producer; never the message id) and each
`*_id` argument (reference_id, video_id, suggestion_id...)."""

from __future__ import annotations

import contextvars
import inspect
import logging
from typing import Any

import dramatiq
from dramatiq.broker import MessageProxy

_fields: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("flashflow_log_fields", default=None)


def current_fields() -> dict[str, Any]:
    """The fields of the message this thread is processing (empty outside one)."""
    return dict(_fields.get() or {})


def message_fields(broker: dramatiq.Broker, message: MessageProxy) -> dict[str, Any]:
    """The log fields describing `message`."""
    fields: dict[str, Any] = {"actor": message.actor_name, "message_id": message.message_id,
                              "queue": message.queue_name}
    if message.options.get("correlation_id"):
        fields["correlation_id"] = str(message.options["correlation_id"])
    try:
        actor = broker.get_actor(message.actor_name)
        bound = inspect.signature(actor.fn).bind_partial(*message.args, **message.kwargs)
    except Exception:  # an unknown actor or arguments that do not fit: keep the basic fields
        return fields
    for name, value in bound.arguments.items():
        if name.endswith("_id") and isinstance(value, (str, int)):
            fields[name] = str(value)
    return fields


class ContextFilter(logging.Filter):
    """Adds the current message's fields to a record (fields passed in `extra` win)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in (_fields.get() or {}).items():
            if key not in record.__dict__:
                setattr(record, key, value)
        return True


def install_filter() -> None:
    """Put ContextFilter on every root handler (a filter sees records after `extra` is applied)."""
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, ContextFilter) for f in handler.filters):
            handler.addFilter(ContextFilter())


class LogContext(dramatiq.Middleware):
    """Sets the log fields for the duration of each message."""

    def before_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        # Before the worker threads start: a message taken at once must already be logged with its fields.
        install_filter()

    def before_process_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        _fields.set(message_fields(broker, message))

    def after_process_message(self, broker: dramatiq.Broker, message: MessageProxy, *,
                              result: Any = None, exception: BaseException | None = None) -> None:
        _fields.set(None)

    def after_skip_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        _fields.set(None)
