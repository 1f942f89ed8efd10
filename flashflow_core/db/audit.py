"""Writes `audit_log` rows: one per state change or job run, tied together by a correlation id."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
from psycopg.types.json import Jsonb


def new_correlation_id() -> str:
    """A fresh id that ties together the audit rows of one run."""
    return uuid.uuid4().hex


def write_audit(
    conn: psycopg.Connection,
    *,
    correlation_id: str,
    event_type: str,
    entity_type: str,
    entity_id: str | None,
    summary: str,
    details: dict[str, Any] | None = None,
    actor: str = "system",
) -> None:
    """Insert one audit_log row inside the caller's transaction."""
    conn.execute(
        """
        INSERT INTO audit_log (correlation_id, event_type, entity_type, entity_id, actor, summary, details)
        VALUES (%s, %s, %s, %s, %s, %s, %s)
        """,
        (correlation_id, event_type, entity_type, entity_id, actor, summary, Jsonb(details or {})),
    )
