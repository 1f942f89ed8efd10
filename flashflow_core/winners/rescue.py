"""Finds Winners Bank rows whose message was lost (Redis flushed, a producer crashed between
commit and send, a worker died) so they can be sent again; too many resends fail the row."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID

from psycopg_pool import ConnectionPool

from flashflow_core.db.audit import write_audit
from flashflow_core.db.sql import load_queries
from flashflow_core.winners.states import STAGE_FOR_STATUS, ReferenceStatus, Stage

Q = load_queries("flashflow_core.winners", "queries.sql")


@dataclass(frozen=True)
class Rescue:
    """What one sweep decided: rows to send again, rows given up on."""

    resend: list[tuple[UUID, Stage]]
    failed: list[UUID]


def find_stuck(pool: ConnectionPool, *, quiet_s: float, max_resends: int, batch: int,
               correlation_id: str, skip_stages: Iterable[Stage] = ()) -> Rescue:
    """Pick quiet in-flight rows (set-based, SKIP LOCKED) and decide for each: resend or fail.
    Rows waiting on a stage in `skip_stages` (its queue still has messages) are left alone."""
    resend: list[tuple[UUID, Stage]] = []
    failed: list[UUID] = []
    skip_stages = set(skip_stages)
    skip = sorted(str(status) for status, stage in STAGE_FOR_STATUS.items() if stage in skip_stages)
    with pool.connection() as conn, conn.transaction():
        rows = conn.execute(Q["stuck_references"], {"quiet_s": quiet_s, "batch": batch, "skip": skip}).fetchall()
        give_up = [r for r in rows if r["resend_count"] > max_resends]
        for r in rows:
            if r["resend_count"] <= max_resends:
                resend.append((r["id"], STAGE_FOR_STATUS[ReferenceStatus(r["status"])]))
        if give_up:
            failed_rows = conn.execute(
                """
                UPDATE reference_videos r
                SET status = 'failed', status_changed_at = now(),
                    failed_stage = CASE WHEN r.status IN ('queued', 'needs_file') THEN 'fetch'
                                        WHEN r.status = 'needs_transcription' THEN 'transcribe'
                                        ELSE 'extract' END,
                    error_message = CASE WHEN r.status IN ('queued', 'needs_file') THEN 'fetch'
                                         WHEN r.status = 'needs_transcription' THEN 'transcribe'
                                         ELSE 'extract' END
                        || ': no progress after ' || (r.resend_count - 1)
                        || ' resends by the stuck-work rescue; retry with `flashflow retry`'
                WHERE r.id = ANY(%(ids)s) AND r.status NOT IN ('ready', 'failed')
                RETURNING r.id
                """,
                {"ids": [r["id"] for r in give_up]},
            ).fetchall()
            failed = [r["id"] for r in failed_rows]
        write_audit(
            conn, correlation_id=correlation_id, event_type="job.rescue_stuck_references",
            entity_type="job", entity_id=None,
            summary=f"resent {len(resend)}, failed {len(failed)}",
            details={"resent": len(resend), "failed": len(failed), "quiet_s": quiet_s,
                     "skipped_stages": sorted(str(s) for s in skip_stages)},
        )
    return Rescue(resend, failed)
