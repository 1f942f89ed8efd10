"""Structured logging on stderr: one JSON object per line for machines, or readable text lines for a
person at a terminal, both carrying the fields passed in `extra`.

Every line, its fields and any traceback pass through `flashflow_core.redaction.redact`, so a
URL with a password or a secret setting's value never reaches a log."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from flashflow_core.redaction import redact

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """Formats a record as JSON with its `extra` fields at the top level."""

    def format(self, record: logging.LogRecord) -> str:
        event = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": redact(record.getMessage()),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                event[key] = _redacted(value)
        if record.exc_info:
            event["exc"] = redact(self.formatException(record.exc_info))
        return json.dumps(event, default=lambda v: redact(str(v)))


class TextFormatter(logging.Formatter):
    """Human-readable lines with the `extra` fields appended as key=value."""

    def format(self, record: logging.LogRecord) -> str:
        base = f"{record.levelname.lower():7} {record.name}: {record.getMessage()}"
        fields = " ".join(
            f"{k}={v}" for k, v in record.__dict__.items() if k not in _STANDARD and not k.startswith("_")
        )
        text = f"{base} {fields}".rstrip()
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return redact(text)


def _redacted(value: object) -> object:
    """A log field with secrets redacted inside strings, lists and dicts (before JSON escaping,
    so a secret with a quote or backslash in it is still recognised)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: _redacted(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_redacted(v) for v in value]
    return value


def setup_logging(level: str = "INFO", fmt: str | None = None) -> None:
    """Send logs to stderr in the chosen format (None: text on a terminal, JSON otherwise); safe to
    call more than once."""
    if fmt is None:
        fmt = "text" if _stderr_is_terminal() else "json"
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


def _stderr_is_terminal() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False
