"""Reading the Winners Bank for people (the console): a filtered, paged list of rows, searched as
`flashflow show` finds one, and everything about one row (lookup's detail plus its transcript)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from uuid import UUID

from psycopg_pool import ConnectionPool

from flashflow_core.adapters.base import Storage
from flashflow_core.adapters.sites import ALIASES, site_of
from flashflow_core.db.sql import load_queries
from flashflow_core.winners import lookup
from flashflow_core.winners.states import ReferenceStatus

Q = load_queries("flashflow_core.winners", "browse.sql")
SEARCH_LIMIT = 500


@dataclass(frozen=True)
class ListFilter:
    """What a person narrowed the list to; None means any."""

    status: ReferenceStatus | None = None
    site: str | None = None
    since: date | None = None
    until: date | None = None  # inclusive: rows created on that day count
    text: str | None = None  # a URL, id, id prefix or message id (lookup.search), else part of a URL


@dataclass
class Page:
    rows: list[dict[str, Any]]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max((self.total + self.per_page - 1) // self.per_page, 1)


def list_references(pool: ConnectionPool, where: ListFilter, page: int = 1, per_page: int = 50) -> Page:
    """One page of rows matching `where`, newest first, with the number of matching rows. The
    search text is first looked up as `flashflow show` does (URL, id, id prefix, a producer's message
    id); when that finds nothing it is matched as part of the URL."""
    page = max(page, 1)
    text = (where.text or "").strip() or None
    with pool.connection() as conn:
        ids = [c.id for c in lookup.search(conn, text, limit=SEARCH_LIMIT)] if text else []
        rows = conn.execute(Q["list_references"], {
            "status": str(where.status) if where.status else None,
            "hosts": site_hosts(where.site) if where.site else None,
            "host_suffix": f"%.{where.site.lower()}" if where.site else None,
            "since": _day_start(where.since),
            "until": _day_start(where.until + timedelta(days=1)) if where.until else None,
            "ids": ids or None, "text": None if ids else text,
            "limit": per_page, "offset": (page - 1) * per_page,
        }).fetchall()
    total = rows[0]["total"] if rows else 0
    return Page(rows, total, page, per_page)


def site_hosts(site: str) -> list[str]:
    """The hosts `site_of` folds into `site` that a suffix match would miss (short-link hosts)."""
    site = site.lower()
    return [site, *(host for host, target in ALIASES.items() if target == site)]


def sites(pool: ConnectionPool) -> list[str]:
    """The sites rows come from, most rows first."""
    with pool.connection() as conn:
        hosts = conn.execute(Q["hosts"]).fetchall()
    counts: dict[str, int] = {}
    for row in hosts:
        if row["host"]:
            site = site_of(f"http://{row['host']}/")
            counts[site] = counts.get(site, 0) + row["n"]
    return sorted(counts, key=lambda s: (-counts[s], s))


@dataclass
class ReferenceStory:
    """One row and all there is to show about it: `lookup.reference_detail` (the row, its timeline,
    assets and hook package, as `flashflow show` prints them) and the transcript's segments."""

    detail: lookup.ReferenceDetail
    assets: dict[str, dict[str, Any]]
    segments: list[dict[str, Any]] = field(default_factory=list)
    transcript_text: str | None = None
    transcript_language: str | None = None


def reference_story(pool: ConnectionPool, storage: Storage, reference_id: UUID) -> ReferenceStory | None:
    """The row's detail and its stored transcript; None when there is no such row."""
    with pool.connection() as conn:
        detail = lookup.reference_detail(conn, reference_id)
    if detail is None:
        return None
    story = ReferenceStory(detail, {a["asset_type"]: a for a in detail.assets})
    transcript = story.assets.get("transcript")
    if transcript and transcript["storage_path"] and storage.exists(transcript["storage_path"]):
        try:
            body = json.loads(storage.read_bytes(transcript["storage_path"]))
            story.segments = [s for s in body.get("segments") or [] if isinstance(s, dict)]
            story.transcript_text = body.get("text")
            story.transcript_language = body.get("language")
        except (ValueError, AttributeError):
            pass  # a transcript file that is not this system's JSON: shown as missing
    return story


def video_key(pool: ConnectionPool, reference_id: UUID) -> str | None:
    """The storage key of a row's video, or None."""
    with pool.connection() as conn:
        row = conn.execute(Q["video_key"], {"id": reference_id}).fetchone()
    return row["storage_path"] if row else None


def _day_start(day: date | None) -> datetime | None:
    return datetime.combine(day, time.min, tzinfo=timezone.utc) if day else None
