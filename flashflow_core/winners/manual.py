"""A person stepping in: attach a file or a transcript, retry a failed row, or cancel a waiting one."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

import psycopg
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

from flashflow_core.adapters.base import MediaInfo, PermanentError, Segment, Transcript
from flashflow_core.adapters.toolkit import Toolkit
from flashflow_core.db.audit import new_correlation_id
from flashflow_core.db.sql import load_queries
from flashflow_core.winners import file_swap, intake, storage_keys, transitions
from flashflow_core.winners.states import ATTACH_FILE, ATTACH_TRANSCRIPT, CANCEL, Move, ReferenceStatus, Stage

Q = load_queries("flashflow_core.winners", "queries.sql")
S = ReferenceStatus


class CannotStepIn(Exception):
    """The row is not in a state that allows this, or what a person supplied is refused; the
    message (one line) says why. Nothing was changed."""


# Our transcript JSON is three levels deep; anything far deeper is not a transcript, and is
# refused before json.loads could recurse on it.
MAX_JSON_DEPTH = 16


def attach_file(pool: ConnectionPool, tools: Toolkit, reference_id: UUID, path: Path, actor: str = "cli") -> Stage:
    """Store a video a person supplies; the row resumes at transcription. Returns the next stage.

    The file is checked first (a video with a duration, within the fetch limits), then stored
    under a new key and the row switched to it in one transaction: any failure leaves the row
    and its previous file as they were."""
    info = _check_video(tools, path)
    _require_movable(pool, reference_id, ATTACH_FILE, "attach-file")
    key = storage_keys.video(reference_id, path.suffix, version=storage_keys.new_version())
    _replace(pool, tools, reference_id, ATTACH_FILE, key, lambda k: tools.storage.put_file(k, path),
             asset={"asset_type": "mp4", "transcript_text": None, "details": {}},
             actor=actor, what=f"attached file {path.name}",
             meta={"duration_s": info.duration_s, "has_audio": info.has_audio})
    return Stage.TRANSCRIBE


def _check_video(tools: Toolkit, path: Path) -> MediaInfo:
    if not path.is_file():
        raise CannotStepIn(f"{path}: no such file")
    limit_mb = tools.settings.fetch_max_filesize_mb
    if path.stat().st_size > limit_mb * 1024 * 1024:
        raise CannotStepIn(f"{path}: larger than {limit_mb:g} MB (FLASHFLOW_FETCH_MAX_FILESIZE_MB)")
    try:
        info = tools.media.probe(path)
    except PermanentError as exc:
        raise CannotStepIn(f"{path}: {exc}") from exc
    if not info.has_video or not info.duration_s or info.duration_s <= 0:
        raise CannotStepIn(f"{path}: not a video with a duration")
    if info.duration_s > tools.settings.fetch_max_duration_s:
        raise CannotStepIn(f"{path}: {info.duration_s:.0f} s long, longer than "
                           f"{tools.settings.fetch_max_duration_s:g} s (FLASHFLOW_FETCH_MAX_DURATION_S)")
    return info


def read_transcript(data: bytes | str, max_bytes: int) -> str:
    """The text of a transcript a person supplies: at most `max_bytes` of UTF-8 without NUL."""
    try:
        raw = data.encode("utf-8") if isinstance(data, str) else data
    except UnicodeEncodeError as exc:
        raise CannotStepIn(f"the transcript is not UTF-8 text (character {exc.start})") from exc
    if len(raw) > max_bytes:
        raise CannotStepIn(f"the transcript is larger than {max_bytes:,} bytes (FLASHFLOW_TRANSCRIPT_MAX_BYTES)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CannotStepIn(f"the transcript is not UTF-8 text (byte {exc.start} is {raw[exc.start]:#04x})") from exc
    if "\x00" in text:
        raise CannotStepIn(f"the transcript holds a NUL character (at character {text.index(chr(0))}): not text")
    return text


def parse_transcript(text: str) -> Transcript:
    """Plain text, or the JSON this system stores ({"text", "segments": [{start, end, text}]})."""
    stripped = text.strip()
    if stripped.startswith("{"):
        if _json_depth(stripped) > MAX_JSON_DEPTH:
            raise CannotStepIn(f"the transcript JSON is nested deeper than {MAX_JSON_DEPTH} levels")
        try:
            body = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise CannotStepIn(f"the transcript looks like JSON but does not parse: {exc}") from exc
        try:
            segments = [Segment(_seconds(s["start"]), _seconds(s["end"]), str(s["text"]))
                        for s in body.get("segments") or []]
            text = body.get("text") or " ".join(s.text.strip() for s in segments)
            language = body.get("language")
            if language is not None and not (isinstance(language, str) and len(language) <= 16):
                raise ValueError(f"language {language!r} is not a language code")
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise CannotStepIn('the transcript JSON must look like {"text": "...", "segments": '
                               f'[{{"start": 0.0, "end": 1.5, "text": "..."}}]}} ({exc!r})') from exc
        return Transcript(str(text), language, segments, "attached")
    return Transcript(stripped, None, [], "attached")


def _seconds(value: object) -> float:
    seconds = float(value)  # type: ignore[arg-type]
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"{value!r} is not a time in seconds")
    return seconds


def _json_depth(text: str) -> int:
    """How deeply objects and arrays nest in JSON text, found without recursion."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def attach_transcript(pool: ConnectionPool, tools: Toolkit, reference_id: UUID, data: bytes | str,
                      actor: str = "cli") -> Stage:
    """Store a transcript a person supplies; the row resumes at extraction. Returns the next stage.

    Checked first (UTF-8, no NUL, FLASHFLOW_TRANSCRIPT_MAX_BYTES, JSON shape and depth), then stored
    under a new key and the row switched to it in one transaction: any failure leaves the row and
    its previous transcript as they were."""
    transcript = parse_transcript(read_transcript(data, tools.settings.transcript_max_bytes))
    if not transcript.has_speech:
        raise CannotStepIn("the transcript is empty")
    _require_movable(pool, reference_id, ATTACH_TRANSCRIPT, "attach-transcript")
    body = {"text": transcript.text, "language": transcript.language, "engine": "attached",
            "segments": [{"start": s.start, "end": s.end, "text": s.text} for s in transcript.segments]}
    key = storage_keys.transcript(reference_id, version=storage_keys.new_version())
    _replace(pool, tools, reference_id, ATTACH_TRANSCRIPT, key,
             lambda k: tools.storage.put_bytes(k, json.dumps(body, ensure_ascii=False).encode()),
             asset={"asset_type": "transcript", "transcript_text": transcript.text,
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
        intake.owe_message(conn, reference_id)  # settled by the caller's send (jobs.winners.send_owed)
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


def _replace(pool: ConnectionPool, tools: Toolkit, reference_id: UUID, move: Move, key: str,
             write: Callable[[str], object], *, asset: dict, actor: str, what: str, meta: dict) -> None:
    """Store the new file under `key` and switch the row and its asset to it in one transaction;
    on any failure the new file is removed and CannotStepIn raised (one line)."""
    def switch(new_key: str) -> str | None:
        with pool.connection() as conn, conn.transaction():
            before = conn.execute(Q["get_reference"] + " FOR UPDATE", {"id": reference_id}).fetchone()
            if before is None:
                raise CannotStepIn(f"no reference video with id {reference_id}")
            previous = conn.execute(Q["asset_path"], {"id": reference_id, "asset_type": asset["asset_type"]}).fetchone()
            moved = transitions.attach(conn, move, reference_id, correlation_id=new_correlation_id(), actor=actor,
                                       summary=f"{before['status']} -> {move.target}: {what}", meta=meta)
            if not moved:
                # It changed since _require_movable looked (a worker took it, or another person).
                raise CannotStepIn(f"{reference_id} changed meanwhile (now {before['status']}); try again")
            conn.execute(Q["upsert_asset"], {"id": reference_id, **asset, "storage_path": new_key,
                                             "details": Jsonb(asset["details"])})
            intake.owe_message(conn, reference_id)  # settled by the caller's send (jobs.winners.send_owed)
        return previous["storage_path"] if previous else None

    try:
        file_swap.swap_in(tools.storage, key, write, switch)
    except OSError as exc:
        raise CannotStepIn(f"cannot store the {asset['asset_type']} file: {exc.strerror or exc}; "
                           "nothing was changed") from exc
    except psycopg.Error as exc:
        first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise CannotStepIn(f"the database refused the change ({first_line}); nothing was changed") from exc
