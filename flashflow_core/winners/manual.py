"""A person stepping in: attach a file or a transcript, retry a failed row, or cancel a waiting one."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

from flashflow_core.adapters.base import PermanentError, Segment, Transcript
from flashflow_core.adapters.toolkit import Toolkit
from flashflow_core.db.audit import new_correlation_id
from flashflow_core.db.sql import load_queries
from flashflow_core.winners import storage_keys, transitions
from flashflow_core.winners.states import ATTACH_FILE, ATTACH_TRANSCRIPT, CANCEL, RETRY, Move, ReferenceStatus, Stage

Q = load_queries("flashflow_core.winners", "queries.sql")
S = ReferenceStatus


class CannotStepIn(Exception):
    """The row is not in a state that allows this; the message says why."""


def attach_file(pool: ConnectionPool, tools: Toolkit, reference_id: UUID, path: Path, actor: str = "cli") -> Stage:
    """Store a video a person supplies; the row resumes at transcription. Returns the next stage."""
    if not path.is_file():
        raise CannotStepIn(f"{path}: no such file")
    try:
        info = tools.media.probe(path)
    except PermanentError as exc:
        raise CannotStepIn(f"{path}: {exc}") from exc
    if not info.has_video:
        raise CannotStepIn(f"{path}: the file has no video stream")
    _require_movable(pool, reference_id, ATTACH_FILE, "attach-file")
    stored = tools.storage.put_file(storage_keys.video(reference_id, path.suffix), path)
    _move(pool, reference_id, ATTACH_FILE,
          asset={"asset_type": "mp4", "storage_path": stored, "transcript_text": None, "details": {}},
          actor=actor, what=f"attached file {path.name}", meta={"duration_s": info.duration_s,
                                                                 "has_audio": info.has_audio})
    return Stage.TRANSCRIBE


def parse_transcript(text: str) -> Transcript:
    """Plain text, or the JSON this system stores ({"text", "segments": [{start, end, text}]})."""
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            body = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise CannotStepIn(f"the transcript looks like JSON but does not parse: {exc}") from exc
        try:
            segments = [Segment(float(s["start"]), float(s["end"]), str(s["text"]))
                        for s in body.get("segments") or []]
            text = body.get("text") or " ".join(s.text.strip() for s in segments)
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise CannotStepIn('the transcript JSON must look like {"text": "...", "segments": '
                               f'[{{"start": 0.0, "end": 1.5, "text": "..."}}]}} ({exc!r})') from exc
        return Transcript(str(text), body.get("language"), segments, "attached")
    return Transcript(stripped, None, [], "attached")


def attach_transcript(pool: ConnectionPool, tools: Toolkit, reference_id: UUID, text: str,
                      actor: str = "cli") -> Stage:
    """Store a transcript a person supplies; the row resumes at extraction. Returns the next stage."""
    transcript = parse_transcript(text)
    if not transcript.has_speech:
        raise CannotStepIn("the transcript is empty")
    _require_movable(pool, reference_id, ATTACH_TRANSCRIPT, "attach-transcript")
    body = {"text": transcript.text, "language": transcript.language, "engine": "attached",
            "segments": [{"start": s.start, "end": s.end, "text": s.text} for s in transcript.segments]}
    stored = tools.storage.put_bytes(storage_keys.transcript(reference_id), json.dumps(body).encode())
    _move(pool, reference_id, ATTACH_TRANSCRIPT,
          asset={"asset_type": "transcript", "storage_path": stored, "transcript_text": transcript.text,
                 "details": {"engine": "attached", "segments": len(transcript.segments)}},
          actor=actor, what="attached a transcript", meta={"has_speech": True})
    return Stage.EXTRACT


def retry(pool: ConnectionPool, reference_id: UUID, actor: str = "cli") -> Stage:
    """Start a failed row again from the stage that failed. Returns that stage."""
    with pool.connection() as conn, conn.transaction():
        row = _require_row(pool, reference_id, conn)
        if row["status"] != S.FAILED:
            raise CannotStepIn(f"{reference_id} is {row['status']}, not failed: nothing to retry")
        stage = Stage(row["failed_stage"] or Stage.FETCH)
        transitions.restart(conn, reference_id, stage, correlation_id=new_correlation_id(), actor=actor,
                            previous_error=row["error_message"])
    return stage


def cancel(pool: ConnectionPool, reference_id: UUID, actor: str = "cli") -> Stage:
    """Stop a queued or waiting row: it fails, "canceled by ACTOR". Returns the stage it waited on."""
    with pool.connection() as conn, conn.transaction():
        row = _require_row(pool, reference_id, conn)
        status = ReferenceStatus(row["status"])
        if status not in CANCEL.sources:
            raise CannotStepIn(f"{reference_id} is {status} already: nothing to cancel")
        if row["lease_until"] is not None and row["lease_until"] > datetime.now(UTC):
            raise CannotStepIn(f"{reference_id} is being worked on ({status}) until "
                               f"{row['lease_until']:%H:%M:%S %Z}; cancel it when that attempt ends, or "
                               "pause its queue first")
        stage = transitions.cancel(conn, reference_id, actor=actor)
    if stage is None:  # cannot happen under FOR UPDATE, but never report a cancel that did not happen
        raise CannotStepIn(f"{reference_id} changed meanwhile; try again")
    return stage


def _require_movable(pool: ConnectionPool, reference_id: UUID, move: Move, command: str) -> None:
    """Refuse before anything is stored when the row cannot take what a person attaches."""
    row = _require_row(pool, reference_id)
    failed_stage = Stage(row["failed_stage"]) if row["failed_stage"] else None
    if not move.allows(ReferenceStatus(row["status"]), failed_stage):
        state = row["status"] + (f" at {row['failed_stage']}" if row["failed_stage"] else "")
        raise CannotStepIn(f"{reference_id} is {state}; {command} is allowed from "
                           + ", ".join(str(s) for s in move.sources)
                           + f" (failed at {'/'.join(str(s) for s in move.failed_stages)})")
    if row["lease_until"] is not None and row["lease_until"] > datetime.now(UTC):
        raise CannotStepIn(f"{reference_id} is being worked on ({row['status']}) until "
                           f"{row['lease_until']:%H:%M:%S %Z}; try again when that attempt ends")


def _require_row(pool: ConnectionPool, reference_id: UUID, conn=None) -> dict:
    if conn is None:
        with pool.connection() as c:
            row = c.execute(Q["get_reference"], {"id": reference_id}).fetchone()
    else:
        row = conn.execute(Q["get_reference"] + " FOR UPDATE", {"id": reference_id}).fetchone()
    if row is None:
        raise CannotStepIn(f"no reference video with id {reference_id}")
    return row


def _move(pool: ConnectionPool, reference_id: UUID, move: Move, *, asset: dict, actor: str, what: str,
          meta: dict) -> None:
    with pool.connection() as conn, conn.transaction():
        before = conn.execute(Q["get_reference"] + " FOR UPDATE", {"id": reference_id}).fetchone()
        if before is None:
            raise CannotStepIn(f"no reference video with id {reference_id}")
        moved = transitions.attach(conn, move, reference_id, correlation_id=new_correlation_id(), actor=actor,
                                   summary=f"{before['status']} -> {move.target}: {what}", meta=meta)
        if not moved:
            # It changed since _require_movable looked (a worker took it, or another person).
            raise CannotStepIn(f"{reference_id} changed meanwhile (now {before['status']}); try again")
        conn.execute(Q["upsert_asset"], {"id": reference_id, **asset, "details": Jsonb(asset["details"])})
