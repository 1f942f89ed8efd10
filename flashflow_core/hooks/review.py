"""Reviewing a hook suggestion: approval upserts the hook into proven_hooks and counts it in
`approved_count` with who approved; rejection is recorded; both stamp `reviewed_at`.

A suggestion is reviewed once: a second review (a redelivered message, a second admin)
changes nothing and says so.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal
from uuid import UUID

from psycopg_pool import ConnectionPool

from flashflow_core.db.audit import write_audit
from flashflow_core.db.pool import transaction
from flashflow_core.db.sql import load_queries

log = logging.getLogger(__name__)

Q = load_queries("flashflow_core.hooks", "queries.sql")

Decision = Literal["approve", "reject"]
_STATUS = {"approve": "approved", "reject": "rejected"}


class ReviewRefused(ValueError):
    """The suggestion cannot take this decision (e.g. approving a hook with no brand)."""


@dataclass(frozen=True)
class ReviewResult:
    """What review_hook_suggestion did."""

    outcome: Literal["approved", "rejected", "already_reviewed", "missing"]
    proven_hook_id: UUID | None = None
    approved_count: int | None = None


def review_hook_suggestion(pool: ConnectionPool, *, suggestion_id: UUID, decision: Decision, reviewed_by: UUID,
                           note: str | None, message_id: str) -> ReviewResult:
    """Apply one review decision, in one transaction with its audit row."""
    if decision not in _STATUS:
        raise ReviewRefused(f"decision must be 'approve' or 'reject', got {decision!r}")
    with transaction(pool) as conn:
        suggestion = conn.execute(Q["lock_suggestion"], {"id": suggestion_id}).fetchone()
        if suggestion is None:
            result = ReviewResult("missing")
        elif suggestion["status"] != "pending":
            result = ReviewResult("already_reviewed")
        else:
            if decision == "approve" and not suggestion["brand_name"]:
                raise ReviewRefused(f"hook suggestion {suggestion_id} has no brand_name; proven_hooks needs one")
            conn.execute(Q["mark_reviewed"], {"id": suggestion_id, "status": _STATUS[decision],
                                              "reviewed_by": reviewed_by, "note": note})
            if decision == "approve":
                hook = conn.execute(Q["approve_hook"], {**suggestion, "approved_by": str(reviewed_by)}).fetchone()
                result = ReviewResult("approved", hook["id"], hook["approved_count"])
            else:
                result = ReviewResult("rejected")
        write_audit(conn, message_id=message_id, event_type=f"hook.review.{result.outcome}",
                    entity_type="hook_suggestion", entity_id=str(suggestion_id), actor=str(reviewed_by),
                    summary=f"hook suggestion {decision}: {result.outcome}",
                    details={"decision": decision, "outcome": result.outcome, "note": note,
                             "proven_hook_id": str(result.proven_hook_id) if result.proven_hook_id else None,
                             "approved_count": result.approved_count})
    log.info("hook suggestion reviewed", extra={"suggestion_id": str(suggestion_id), "outcome": result.outcome})
    return result
