"""Assignment expiry: videos whose assignment (or legacy claim) ran out go back to the pool.

Set-based: each batch is one statement over at most `batch_size` rows in its own
transaction, locking with SKIP LOCKED so a video someone is re-assigning at that moment is
left alone (the next run sees it again if it is still due).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from psycopg_pool import ConnectionPool

from flashflow_core.db.audit import write_audit
from flashflow_core.db.pool import transaction
from flashflow_core.db.sql import load_queries

log = logging.getLogger(__name__)

Q = load_queries("flashflow_core.assignments", "queries.sql")


@dataclass(frozen=True)
class ExpiryResult:
    """What one run of expire_assignments did."""

    assignments: int
    claims: int
    notified: int
    batches: int


def _drain(pool: ConnectionPool, query: str, batch_size: int, message_id: str) -> tuple[int, int, int]:
    expired = notified = batches = 0
    while True:
        with transaction(pool) as conn:
            row = conn.execute(query, {"batch": batch_size, "correlation_id": message_id}).fetchone()
        batches += 1
        expired += row["expired"]
        notified += row["notified"]
        if row["expired"] < batch_size:
            return expired, notified, batches


def expire_assignments(pool: ConnectionPool, *, batch_size: int, message_id: str) -> ExpiryResult:
    """Expire every due assignment and legacy claim, batch by batch; one audit row per run."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    assignments, notified_a, batches_a = _drain(pool, Q["expire_assignments_batch"], batch_size, message_id)
    claims, notified_c, batches_c = _drain(pool, Q["expire_claims_batch"], batch_size, message_id)
    result = ExpiryResult(assignments, claims, notified_a + notified_c, batches_a + batches_c)
    with transaction(pool) as conn:
        write_audit(conn, message_id=message_id, event_type="job.expire_assignments", entity_type="job",
                    entity_id=None, summary=f"expired {assignments} assignments and {claims} claims",
                    details={"assignments_expired": assignments, "claims_expired": claims,
                             "notified": result.notified, "batches": result.batches, "batch_size": batch_size})
    log.info("assignments expired", extra={"message_id": message_id, "assignments": assignments,
                                           "claims": claims, "batches": result.batches})
    return result
