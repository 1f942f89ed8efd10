"""Credit renewal: subscriptions whose period ran out move to the next one and get the
plan's monthly credits, exactly once per user per period.

Each batch is one transaction: the subscriptions move to their new period, the (user,
period) pair is entered in flashflow_credit_renewals, and `reset_monthly_credits` writes the
balance and its `subscription_renewal` transaction. Two runs at once never see the same row
(SKIP LOCKED, and a moved row is no longer due); a run that dies mid-batch rolls that batch
back whole, so a retry grants it once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from psycopg_pool import ConnectionPool

from flashflow_core.db.audit import write_audit
from flashflow_core.db.pool import transaction
from flashflow_core.db.sql import load_queries

log = logging.getLogger(__name__)

Q = load_queries("flashflow_core.credits", "queries.sql")

# Credit transaction type per kind of period change.
_TRANSACTION_TYPE = {"renewal": "subscription_renewal", "downgrade": "reset"}


@dataclass(frozen=True)
class RenewalResult:
    """What one run of renew_credits did."""

    renewed: int
    downgraded: int
    already_granted: int
    batches: int


def renew_credits(pool: ConnectionPool, *, batch_size: int, message_id: str) -> RenewalResult:
    """Renew every due subscription, batch by batch; one audit row per run."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    renewed = downgraded = already = batches = 0
    while True:
        with transaction(pool) as conn:
            rows = conn.execute(Q["advance_due_subscriptions"],
                                {"batch": batch_size, "correlation_id": message_id}).fetchall()
            grant = [row for row in rows if row["granted"]]
            if grant:
                conn.execute(Q["reset_credits"], {"user_ids": [row["user_id"] for row in grant],
                                                  "types": [_TRANSACTION_TYPE[row["kind"]] for row in grant]})
        batches += 1
        renewed += sum(1 for row in grant if row["kind"] == "renewal")
        downgraded += sum(1 for row in grant if row["kind"] == "downgrade")
        already += len(rows) - len(grant)
        if len(rows) < batch_size:
            break
    result = RenewalResult(renewed, downgraded, already, batches)
    with transaction(pool) as conn:
        write_audit(conn, message_id=message_id, event_type="job.renew_credits", entity_type="job",
                    entity_id=None, summary=f"renewed {renewed} subscriptions, moved {downgraded} to the free plan",
                    details={"renewed": renewed, "downgraded": downgraded, "already_granted": already,
                             "batches": batches, "batch_size": batch_size})
    log.info("credits renewed", extra={"message_id": message_id, "renewed": renewed,
                                       "downgraded": downgraded, "batches": batches})
    return result
