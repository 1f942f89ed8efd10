"""Writes the `audit_log` rows of job runs and submissions.

Two ids tie audit rows together (docs/architecture.md, glossary): `correlation_id`, the run a row
belongs to, and `message_id`, the Dramatiq message of the job that wrote it (NULL for a person's
command). A job that is one message is one run, so its correlation id is its message id. Status
changes of reference_videos rows are not written here: the transition trigger writes those.
"""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
from psycopg.types.json import Jsonb


def new_correlation_id() -> str:
    """A fresh id for a new run (a submission, a retry, an attachment)."""
    return uuid.uuid4().hex


def write_audit(
    conn: psycopg.Connection,
    *,
    event_type: str,
    entity_type: str,
    entity_id: str | None,
    summary: str,
    details: dict[str, Any] | None = None,
    actor: str = "system",
    message_id: str | None = None,
    correlation_id: str | None = None,
) -> None:
    """Insert one audit_log row inside the caller's transaction. The correlation id defaults to
    the message id (a one-message run); give one of the two."""
    run = correlation_id or message_id
    if run is None:
        raise ValueError("an audit row needs a correlation id or a message id")
    conn.execute(
        """
        INSERT INTO audit_log (correlation_id, message_id, event_type, entity_type, entity_id, actor, summary, details)
        VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
        """,
        (run, message_id, event_type, entity_type, entity_id, actor, summary, Jsonb(details or {})),
    )
