"""Finds Winners Bank rows whose message was lost (Redis flushed, a producer crashed between
commit and send, a worker died) so they can be sent again; too many resends fail the row."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID

from psycopg_pool import ConnectionPool

from flashflow_core.db.audit import write_audit
from flashflow_core.db.sql import load_queries
from flashflow_core.winners import transitions
from flashflow_core.winners.states import IN_FLIGHT, STAGE_FOR_STATUS, ReferenceStatus, Stage

Q = load_queries("flashflow_core.winners", "queries.sql")


@dataclass(frozen=True)
class Resend:
    """A row whose message is to be sent again: its id, the stage it waits on, its run."""

    reference_id: UUID
    stage: Stage
    correlation_id: str | None


@dataclass(frozen=True)
class Rescue:
    """What one sweep decided: rows to send again, rows given up on."""

    resend: list[Resend]
    failed: list[UUID]


def find_stuck(pool: ConnectionPool, *, quiet_s: float, max_resends: int, batch: int,
               message_id: str, skip_stages: Iterable[Stage] = ()) -> Rescue:
    """Pick quiet in-flight rows (set-based, SKIP LOCKED) and decide for each: resend or fail.
    Rows waiting on a stage in `skip_stages` (its queue still has messages) are left alone."""
    resend: list[Resend] = []
    skip_stages = set(skip_stages)
    skip = sorted(str(status) for status, stage in STAGE_FOR_STATUS.items() if stage in skip_stages)
    with pool.connection() as conn, conn.transaction():
        rows = conn.execute(Q["stuck_references"], {
            "quiet_s": quiet_s, "batch": batch, "skip": skip, "in_flight": [str(s) for s in IN_FLIGHT],
        }).fetchall()
        for r in rows:
            if r["resend_count"] <= max_resends:
                resend.append(Resend(r["id"], STAGE_FOR_STATUS[ReferenceStatus(r["status"])], r["correlation_id"]))
        give_up = [r["id"] for r in rows if r["resend_count"] > max_resends]
        failed = transitions.abandon(conn, give_up, message_id=message_id) if give_up else []
        write_audit(
            conn, message_id=message_id, event_type="job.rescue_stuck_references",
            entity_type="job", entity_id=None,
            summary=f"resent {len(resend)}, failed {len(failed)}",
            details={"resent": len(resend), "failed": len(failed), "quiet_s": quiet_s,
                     "skipped_stages": sorted(str(s) for s in skip_stages)},
        )
    return Rescue(resend, failed)

