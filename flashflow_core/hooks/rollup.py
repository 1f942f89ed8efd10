"""rollup_hook_stats: `posted_count` and `winner_count` of proven_hooks and script_library,
recomputed from the videos in two set-based statements (a winner is a posted video with a
`marked_winner` event). Only rows whose counts change are written."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from psycopg_pool import ConnectionPool

from flashflow_core.db.audit import write_audit
from flashflow_core.db.pool import transaction
from flashflow_core.db.sql import load_queries

log = logging.getLogger(__name__)

Q = load_queries("flashflow_core.hooks", "queries.sql")


@dataclass(frozen=True)
class RollupResult:
    """How many rows' counts changed."""

    proven_hooks_updated: int
    scripts_updated: int


def rollup_hook_stats(pool: ConnectionPool, *, message_id: str) -> RollupResult:
    """Recompute the counts and write one audit row, in one transaction."""
    with transaction(pool) as conn:
        hooks = conn.execute(Q["rollup_proven_hooks"]).rowcount
        scripts = conn.execute(Q["rollup_script_library"]).rowcount
        write_audit(conn, message_id=message_id, event_type="job.rollup_hook_stats", entity_type="job",
                    entity_id=None, summary=f"counts changed on {hooks} proven hooks and {scripts} scripts",
                    details={"proven_hooks_updated": hooks, "scripts_updated": scripts})
    log.info("hook stats rolled up", extra={"message_id": message_id, "proven_hooks": hooks,
                                            "scripts": scripts})
    return RollupResult(hooks, scripts)
