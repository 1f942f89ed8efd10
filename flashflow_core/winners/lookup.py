"""Finding a Winners Bank row from whatever a person or a producer has at hand, and what there is
to show about it. `flashflow show` and the console both use this module.

A key is read as, in order: a URL (normalised the way submissions are, so a share link with
tracking parameters finds its row); a whole id; the first characters of an id (at least
MIN_PREFIX hex digits; an ambiguous prefix lists its matches); or a Dramatiq message id, which
audit_log records on every row a job writes (`flashflow show MESSAGE_ID` finds the row a
producer's message created, or submitted again: `reference.resubmitted`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg

from flashflow_core.db.sql import load_queries
from flashflow_core.winners.urls import normalize_url

Q = load_queries("flashflow_core.winners", "lookup.sql")
MIN_PREFIX = 4
CANDIDATES_SHOWN = 10
_HEX_PREFIX = re.compile(r"[0-9a-f-]+")
# Worker columns that say nothing to a reader of `show` (the transition trigger's scratch column).
_HIDDEN_COLUMNS = frozenset({"audit_context"})


@dataclass(frozen=True)
class Candidate:
    """A row a key may mean."""

    id: UUID
    url: str
    status: str
    created_at: datetime

    def describe(self) -> str:
        return f"{self.id} ({self.status}, {self.url})"


class LookupFailed(Exception):
    """No single row matches the key; the message says why."""


class NotFound(LookupFailed):
    """No row matches the key."""


class Ambiguous(LookupFailed):
    """Several rows match the key; `candidates` holds (up to CANDIDATES_SHOWN + 1 of) them."""

    def __init__(self, message: str, candidates: list[Candidate]) -> None:
        super().__init__(message)
        self.candidates = candidates


def id_prefix_bounds(prefix: str) -> tuple[UUID, UUID] | None:
    """The lowest and highest ids starting with `prefix` (hex digits, dashes ignored), or None when
    it is not such a prefix or is shorter than MIN_PREFIX."""
    text = prefix.strip().lower()
    if not _HEX_PREFIX.fullmatch(text):
        return None
    digits = text.replace("-", "")
    if not MIN_PREFIX <= len(digits) <= 32:
        return None
    return UUID(digits.ljust(32, "0")), UUID(digits.ljust(32, "f"))


def _candidates(rows: list[dict[str, Any]]) -> list[Candidate]:
    return [Candidate(r["id"], r["url"], r["status"], r["created_at"]) for r in rows]


def search(conn: psycopg.Connection, key: str, limit: int = CANDIDATES_SHOWN + 1) -> list[Candidate]:
    """Every row `key` may mean (at most `limit`), by URL, id, id prefix or message id; `conn`
    has dict rows."""
    key = key.strip()
    if not key:
        return []
    if "://" in key:
        urls = [key]
        try:
            urls.insert(0, normalize_url(key))
        except ValueError:
            pass
        return _candidates(conn.execute(Q["by_url"], {"urls": urls}).fetchall())[:limit]
    try:
        whole = UUID(key)
    except ValueError:
        whole = None
    if whole is not None:
        found = _candidates(conn.execute(Q["by_id"], {"id": whole}).fetchall())
        if found:
            return found
    else:
        bounds = id_prefix_bounds(key)
        if bounds is not None:
            found = _candidates(conn.execute(Q["by_id_range"], {"low": bounds[0], "high": bounds[1],
                                                                "limit": limit}).fetchall())
            if found:
                return found
    return _candidates(conn.execute(Q["by_message_id"], {"message_id": key, "limit": limit}).fetchall())


def find_reference(conn: psycopg.Connection, key: str) -> Candidate:
    """The one row `key` means; NotFound or Ambiguous (listing the candidates) otherwise."""
    found = search(conn, key)
    if len(found) == 1:
        return found[0]
    if found:
        shown = "; ".join(c.describe() for c in found[:CANDIDATES_SHOWN])
        more = " and more" if len(found) > CANDIDATES_SHOWN else ""
        raise Ambiguous(f"{key.strip()!r} matches {len(found)}{'+' if more else ''} rows: {shown}{more}; "
                        "give more of the id", found)
    raise NotFound(_not_found(conn, key.strip()))


def _not_found(conn: psycopg.Connection, key: str) -> str:
    if not key:
        return "give an id, the first characters of one, a URL or a message id"
    events = conn.execute(Q["message_events"], {"message_id": key}).fetchall() if "://" not in key else []
    if events:
        latest = events[0]
        when = f"{latest['created_at']:%Y-%m-%d %H:%M:%S %Z}"
        return (f"message {key} made no Winners Bank row; its latest audit event ({when}): "
                f"{latest['event_type']}: {latest['summary']}")
    short = id_prefix_bounds(key) is None and _HEX_PREFIX.fullmatch(key.lower()) is not None
    hint = f" (an id prefix needs at least {MIN_PREFIX} characters)" if short else ""
    return f"no Winners Bank row matches {key!r} as a URL, id, id prefix or message id{hint}"


@dataclass(frozen=True)
class ReferenceDetail:
    """Everything `show` prints about one row: its columns, its audit timeline (time, event,
    actor, attempt, message id, summary), its stored assets and its hook package."""

    row: dict[str, Any]
    timeline: list[dict[str, Any]]
    assets: list[dict[str, Any]]
    hook_package: dict[str, Any] | None


def reference_detail(conn: psycopg.Connection, reference_id: UUID) -> ReferenceDetail | None:
    """The row with its timeline, assets and hook package, or None when it does not exist."""
    row = conn.execute(Q["reference"], {"id": reference_id}).fetchone()
    if row is None:
        return None
    package = conn.execute(Q["hook_package"], {"id": reference_id}).fetchone()
    if package is not None:
        package = {k: v for k, v in package.items() if k != "reference_video_id"}
    return ReferenceDetail(
        row={k: v for k, v in row.items() if k not in _HIDDEN_COLUMNS},
        timeline=timeline(conn, reference_id),
        assets=conn.execute(Q["assets"], {"id": reference_id}).fetchall(),
        hook_package=package,
    )


def timeline(conn: psycopg.Connection, reference_id: UUID) -> list[dict[str, Any]]:
    """The row's audit events, oldest first: at, event, actor, attempt, message_id, summary."""
    return conn.execute(Q["timeline"], {"id": reference_id}).fetchall()
