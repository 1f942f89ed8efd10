"""The console's Winners Bank list on real Postgres: filters by status, site (subdomains and short-link
hosts folded in, as site_of does) and creation date, search, paging."""

from __future__ import annotations

from datetime import date

from flashflow_core.winners.browse import ListFilter, list_references, sites
from flashflow_core.winners.states import ReferenceStatus


def _insert(conn, url: str, status: str = "queued", created: str = "2026-11-20 12:00+00") -> str:
    return str(conn.execute("INSERT INTO reference_videos (url, submitted_by, status, created_at) "
                            "VALUES (%s, 'test', %s, %s) RETURNING id", (url, status, created)).fetchone()["id"])


def test_filters_search_and_pages(pool, conn):
    tiktok = _insert(conn, "https://www.tiktok.com/@a/video/1", "ready", "2026-11-01 10:00+00")
    short = _insert(conn, "https://vm.tiktok.com/ZMabc/", "failed", "2026-11-02 10:00+00")
    youtube = _insert(conn, "https://youtu.be/xyz", "ready", "2026-11-03 23:59+00")
    other = _insert(conn, "https://notiktok.com/v/1", "queued", "2026-11-04 00:00+00")

    def ids(**where) -> list[str]:
        return [str(r["id"]) for r in list_references(pool, ListFilter(**where)).rows]

    assert ids() == [other, youtube, short, tiktok]  # newest first
    assert ids(site="tiktok.com") == [short, tiktok]  # not notiktok.com
    assert ids(site="youtube.com") == [youtube]
    assert ids(status=ReferenceStatus.READY) == [youtube, tiktok]
    assert ids(since=date(2026, 11, 2), until=date(2026, 11, 3)) == [youtube, short]  # `until` day included
    assert ids(text="ZMabc") == [short]  # part of a URL
    assert ids(text=youtube[:8]) == [youtube]  # an id prefix, found as `flashflow show` finds it
    assert ids(text="https://www.tiktok.com/@a/video/1?utm_source=x") == [tiktok]  # normalised like submissions
    assert ids(text="nothing-like-this") == []
    assert sites(pool)[0] == "tiktok.com" and set(sites(pool)) == {"tiktok.com", "youtube.com", "notiktok.com"}

    first, second = (list_references(pool, ListFilter(), page=n, per_page=3) for n in (1, 2))
    assert (first.total, first.pages, len(first.rows), len(second.rows)) == (4, 2, 3, 1)
    assert str(second.rows[0]["id"]) == tiktok
