"""Takes in Winners Bank rows that another system inserted straight into `reference_videos`
(status `queued`, no correlation id, no message): each is claimed once across all workers,
given a correlation id and a `reference.submitted` audit row; the caller sends its fetch message.

The NOTIFY channel below is raised by a trigger on every insert of such rows.
"""

from __future__ import annotations

from uuid import UUID

from psycopg_pool import ConnectionPool

from flashflow_core.db.sql import load_queries
from flashflow_core.winners.states import ReferenceStatus

Q = load_queries("flashflow_core.winners", "intake.sql")
CHANNEL = "flashflow_reference_intake"


def take_in(pool: ConnectionPool, batch: int = 500) -> list[UUID]:
    """Claim up to `batch` waiting rows (committed before returning); return their ids."""
    with pool.connection() as conn, conn.transaction():
        return [row["id"] for row in conn.execute(Q["take_in"], {"batch": batch, "status": str(ReferenceStatus.QUEUED)})]
