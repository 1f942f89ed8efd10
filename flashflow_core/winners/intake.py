"""Rows whose message must still be sent, so that no Winners Bank row is ever left without one.

Two kinds: rows another system inserted straight into `reference_videos` (status `queued`, no
correlation id; a trigger raises NOTIFY on CHANNEL for them), and rows that owe a message
(`message_owed_since`: set in the transaction that made the row need one — a submission, a stage's
finish, a retry, an attachment — and settled once the message is in Redis: a sender that could
not reach Redis, or died between its commit and its send). Each is claimed once across all
workers and its message sent *inside* the claiming transaction: a send that fails (Redis down)
rolls the claim back, and the next sweep tries again. A duplicate message is harmless (a stage
finds the lease held, or the row already past it); a lost one is what this prevents.
"""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

import psycopg
from psycopg_pool import ConnectionPool

from flashflow_core.db.sql import load_queries
from flashflow_core.winners.states import STAGE_FOR_STATUS, ReferenceStatus, Stage

Q = load_queries("flashflow_core.winners", "intake.sql")
CHANNEL = "flashflow_reference_intake"
# How long a row may owe its message before the intake sends it: the sender's own send (right
# after its commit) normally settles it well within this.
OWED_GRACE_S = 5.0

Send = Callable[[Stage, UUID, str | None], None]


def take_in(pool: ConnectionPool, send: Send, batch: int = 500) -> int:
    """Claim up to `batch` rows inserted without a message and send their fetch messages, in one
    transaction; return how many were sent."""
    with pool.connection() as conn, conn.transaction():
        rows = conn.execute(Q["take_in"], {"batch": batch, "status": str(ReferenceStatus.QUEUED)}).fetchall()
        for row in rows:
            send(Stage.FETCH, row["id"], row["correlation_id"])
    return len(rows)


def resend_owed(pool: ConnectionPool, send: Send, batch: int = 500, grace_s: float = OWED_GRACE_S) -> int:
    """Send the messages rows have owed for longer than `grace_s` (each for the stage its status
    waits on) and settle them, in one transaction; return how many were sent."""
    waiting = [str(status) for status in STAGE_FOR_STATUS]
    with pool.connection() as conn, conn.transaction():
        rows = conn.execute(Q["take_owed"], {"batch": batch, "grace_s": grace_s, "waiting": waiting}).fetchall()
        sent = [row for row in rows if row["waiting"]]
        for row in sent:
            send(STAGE_FOR_STATUS[ReferenceStatus(row["status"])], row["id"], row["correlation_id"])
    return len(sent)


def owe_message(conn: psycopg.Connection, reference_id: UUID) -> None:
    """Mark a row as owing a message, inside the transaction that makes it need one."""
    conn.execute(Q["owe_message"], {"id": reference_id})


def settle(pool: ConnectionPool, reference_ids: list[UUID], stage: Stage) -> None:
    """These rows' messages for `stage` are in Redis."""
    if reference_ids:
        waiting = [str(status) for status, waits_on in STAGE_FOR_STATUS.items() if waits_on == stage]
        with pool.connection() as conn:
            conn.execute(Q["settle_owed"], {"ids": reference_ids, "waiting": waiting})
