"""Carries out the Winners Bank moves of `states.py` against Postgres.

Each move is one conditional statement (queries.sql) from the move's source statuses, fenced where
a worker makes it by the attempt's lease token (only the latest claim may write), that also sets `audit_context`: who made the move, under which
Dramatiq message, and why. The `reference_videos_transition` trigger turns that into the move's one
audit_log row, so no move here writes audit rows itself. A statement that finds nothing to change
returns None/False: the row moved on meanwhile, and the caller stops quietly.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import psycopg
from psycopg.types.json import Jsonb

from flashflow_core.db.sql import load_queries
from flashflow_core.winners.states import (
    ABANDON,
    CANCEL,
    CLAIM,
    FAIL,
    FINISH,
    NEXT_STAGE,
    RETRY,
    STAGE_FOR_STATUS,
    STAGE_WORKS_IN,
    Move,
    ReferenceStatus,
    Stage,
)

Q = load_queries("flashflow_core.winners", "queries.sql")

#: The actor of moves the workers make on their own (a person's moves name the person).
SYSTEM = "system"


def audit_context(move: Move, *, actor: str, message_id: str | None, summary: str | None = None,
                  details: dict[str, Any] | None = None) -> Jsonb:
    """What the transition trigger records for `move`: event, actor, message id, why."""
    context: dict[str, Any] = {"event": move.event, "actor": actor, "message_id": message_id, "fresh": move.fresh}
    if summary is not None:
        context["summary"] = summary
    if details:
        context["details"] = details
    return Jsonb(context)


def move_params(move: Move) -> dict[str, Any]:
    """The statuses a statement needs to carry out `move`."""
    return {"sources": [str(s) for s in move.sources], "target": str(move.target),
            "failed_stages": [str(s) for s in move.failed_stages], "failed": str(ReferenceStatus.FAILED)}


def claim(conn: psycopg.Connection, stage: Stage, reference_id: UUID, message_id: str, *,
          lease_s: float) -> dict[str, Any] | None:
    """Take the row's lease (for `lease_s`) for one attempt at `stage`; the row with its assets, or None."""
    move = CLAIM[stage]
    return conn.execute(Q["claim_stage"], {
        **move_params(move), "id": reference_id, "lease_s": lease_s, "message_id": message_id,
        "audit": audit_context(move, actor=SYSTEM, message_id=message_id),
    }).fetchone()


def finish(conn: psycopg.Connection, stage: Stage, row: dict[str, Any], *, meta: dict[str, Any],
           assets: list[dict[str, Any]], extract: dict[str, Any] | None) -> list[str] | None:
    """Store what the attempt made and move the row on, if the attempt still holds the lease under
    its token, owing the next stage's message (`intake`); the storage paths its assets replaced
    (to remove), or None when it did not."""
    move = FINISH[stage]
    details = {"attempt": row["stage_attempts"], "lease_token": row["lease_token"], **_jsonable(meta)}
    moved = conn.execute(Q["advance"], {
        **move_params(move), "id": row["id"], "token": row["lease_token"],
        "owes_message": NEXT_STAGE[stage] is not None,
        "meta": Jsonb(meta), "assets": Jsonb(assets), "extracts": Jsonb([extract] if extract is not None else []),
        "audit": audit_context(move, actor=SYSTEM, message_id=row["message_id"], details=details),
    }).fetchone()
    return None if moved is None else list(moved["superseded"])


def fail(conn: psycopg.Connection, stage: Stage, row: dict[str, Any], error: str) -> bool:
    """Fail the row at `stage` with `error`, if the attempt still holds the lease under its token."""
    move = FAIL[stage]
    failed = conn.execute(Q["fail"], {
        **move_params(move), "id": row["id"], "stage": str(stage), "error": error, "token": row["lease_token"],
        "audit": audit_context(move, actor=SYSTEM, message_id=row["message_id"], summary=error,
                               details={"stage": str(stage), "attempt": row["stage_attempts"]}),
    }).fetchone()
    return failed is not None


def release(conn: psycopg.Connection, stage: Stage, row: dict[str, Any], error: str, throttled: bool) -> None:
    """Give the lease back after an attempt that will be retried (no status change), if it still holds it."""
    conn.execute(Q["release"], {"id": row["id"], "expected": str(STAGE_WORKS_IN[stage]),
                                "token": row["lease_token"], "error": error[:2000], "throttled": throttled})


def restart(conn: psycopg.Connection, reference_id: UUID, stage: Stage, *, correlation_id: str, actor: str,
            previous_error: str | None) -> bool:
    """`flashflow retry`: a row that failed at `stage` starts again as a new run."""
    move = RETRY[stage]
    moved = conn.execute(Q["restart"], {
        **move_params(move), "id": reference_id, "correlation_id": correlation_id,
        "audit": audit_context(move, actor=actor, message_id=None,
                               summary=f"{move.sources[0]} -> {move.target} (retry from {stage})",
                               details={"stage": str(stage), "previous_error": previous_error}),
    }).fetchone()
    return moved is not None


def attach(conn: psycopg.Connection, move: Move, reference_id: UUID, *, correlation_id: str, actor: str,
           summary: str, meta: dict[str, Any]) -> bool:
    """A person supplied what a stage makes: the row resumes, as a new run, at `move.target`."""
    moved = conn.execute(Q["move_for_attach"], {
        **move_params(move), "id": reference_id, "correlation_id": correlation_id, "meta": Jsonb(meta),
        "audit": audit_context(move, actor=actor, message_id=None, summary=summary),
    }).fetchone()
    return moved is not None


def abandon(conn: psycopg.Connection, reference_ids: list[UUID], *, message_id: str | None) -> list[UUID]:
    """The rescue fails rows it re-sent too often, each at the stage its status waits on."""
    rows = conn.execute(Q["abandon"], {
        **move_params(ABANDON), "ids": reference_ids,
        "stage_for_status": Jsonb({str(status): str(stage) for status, stage in STAGE_FOR_STATUS.items()}),
        "audit": audit_context(ABANDON, actor=SYSTEM, message_id=message_id),
    }).fetchall()
    return [r["id"] for r in rows]


def cancel(conn: psycopg.Connection, reference_id: UUID, *, actor: str) -> Stage | None:
    """A person stops a waiting row: it fails, "canceled by ACTOR", at the stage it waited on.
    None when the row is not waiting (final, or an attempt holds its lease)."""
    row = conn.execute(Q["cancel"], {
        **move_params(CANCEL), "id": reference_id, "error": f"canceled by {actor}",
        "stage_for_status": Jsonb({str(status): str(stage) for status, stage in STAGE_FOR_STATUS.items()}),
        "audit": audit_context(CANCEL, actor=actor, message_id=None),
    }).fetchone()
    return Stage(row["failed_stage"]) if row else None


def _jsonable(meta: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in meta.items() if isinstance(v, (str, int, float, bool, list, type(None)))}
