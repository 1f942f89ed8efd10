"""`flashflow status`: counts per status, the oldest row waiting in each, the latest failures."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from psycopg_pool import ConnectionPool

from flashflow_core.db.sql import load_queries
from flashflow_core.winners.states import FINAL, ReferenceStatus

Q = load_queries("flashflow_core.winners", "queries.sql")


def status_report(pool: ConnectionPool, failures: int = 10) -> dict[str, Any]:
    """A JSON-ready summary of the Winners Bank."""
    with pool.connection() as conn:
        counts = {r["status"]: r["n"] for r in conn.execute(Q["status_counts"])}
        oldest = conn.execute(Q["oldest_in_flight"], {"final": sorted(str(s) for s in FINAL)}).fetchall()
        failed = conn.execute(Q["latest_failures"], {"limit": failures,
                                                     "failed": str(ReferenceStatus.FAILED)}).fetchall()
        now = conn.execute("SELECT now() AS now").fetchone()["now"]
    return {
        "counts": {str(s): counts.get(str(s), 0) for s in ReferenceStatus},
        "oldest": [
            {"status": r["status"], "id": str(r["id"]), "url": r["url"],
             "since": _iso(r["status_changed_at"]), "age_s": round((now - r["status_changed_at"]).total_seconds())}
            for r in oldest
        ],
        "failures": [
            {"id": str(r["id"]), "url": r["url"], "stage": r["failed_stage"], "error": r["error_message"],
             "at": _iso(r["updated_at"])}
            for r in failed
        ],
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
