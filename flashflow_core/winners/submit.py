"""Submitting reference URLs to the Winners Bank: validate, normalise, insert once per URL (a URL
submitted again is recorded on its row's audit trail, not fetched again)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

import psycopg
from psycopg_pool import ConnectionPool
from pydantic import BaseModel, Field, field_validator

from flashflow_core.db.audit import new_correlation_id, write_audit
from flashflow_core.db.sql import load_queries
from flashflow_core.winners.states import ReferenceStatus
from flashflow_core.winners.urls import normalize_url

Q = load_queries("flashflow_core.winners", "queries.sql")


class ReferenceSubmission(BaseModel):
    """One URL to add to the Winners Bank, as a person or another system submits it."""

    url: str = Field(min_length=1, max_length=2048, json_schema_extra={"format": "uri"})  # http(s) only
    submitted_by: str = Field(default="cli", min_length=1, max_length=200)
    category: str | None = Field(default=None, max_length=200)
    notes: str | None = Field(default=None, max_length=5000)

    @field_validator("url")
    @classmethod
    def _normalise(cls, url: str) -> str:
        return normalize_url(url.strip())


@dataclass(frozen=True)
class Submitted:
    """The row a submission ended up as: new, or the one that already had this URL."""

    id: UUID
    url: str
    status: str
    created: bool
    correlation_id: str
    sent: bool = False  # its fetch message is in Redis (jobs.winners.enqueue_submission)


def submit_reference(pool: ConnectionPool, submission: ReferenceSubmission,
                     message_id: str | None = None) -> Submitted:
    """Insert the reference row, owing its fetch message (committed before returning), or report
    the existing one, recording the resubmission on its audit trail. `message_id` is the message
    of the job submitting it, if a job does."""
    cid = new_correlation_id()
    with pool.connection() as conn, conn.transaction():
        row = conn.execute(Q["insert_reference"], {**submission.model_dump(), "correlation_id": cid,
                                                   "status": str(ReferenceStatus.QUEUED)}).fetchone()
        if row is None:
            existing = conn.execute(Q["get_reference_by_url"], {"url": submission.url}).fetchone()
            _record_resubmission(conn, submission, existing, message_id)
            return Submitted(existing["id"], existing["url"], existing["status"], False,
                             existing["correlation_id"] or "")
        write_audit(
            conn, correlation_id=cid, message_id=message_id, event_type="reference.submitted", entity_type="reference_video",
            entity_id=str(row["id"]), actor=submission.submitted_by, summary=f"submitted {submission.url}",
            details={"url": submission.url, "category": submission.category},
        )
    return Submitted(row["id"], row["url"], row["status"], True, cid)


def _record_resubmission(conn: psycopg.Connection, submission: ReferenceSubmission, existing: dict[str, Any],
                         message_id: str | None) -> None:
    """A URL already in the Winners Bank is not fetched again, but the submission is recorded, under
    the submitting job's message id, so `flashflow show MESSAGE_ID` finds the row from any
    producer's message. A job delivered again (its message already on the row's trail) adds nothing."""
    if message_id is not None and conn.execute(Q["message_recorded"], {"message_id": message_id,
                                                                       "id": existing["id"]}).fetchone()["recorded"]:
        return
    write_audit(
        conn, correlation_id=existing["correlation_id"] or new_correlation_id(), message_id=message_id,
        event_type="reference.resubmitted", entity_type="reference_video", entity_id=str(existing["id"]),
        actor=submission.submitted_by, summary=f"submitted again while {existing['status']}: {submission.url}",
        details={"url": submission.url, "category": submission.category, "status": existing["status"]},
    )
