"""Hook suggestions from posted videos: each hook a posted video carries that its brand has
neither proven nor suggested yet becomes a `pending` suggestion.

Hooks come from the locked script (spoken: `script_locked_json.hook`, else the first line
of `script_locked_text`), the concept (visual, on-screen text) and the video's
script_library entry (visual, on-screen text). Running it again for a video adds nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Literal
from uuid import UUID

from psycopg_pool import ConnectionPool

from flashflow_core.db.audit import write_audit
from flashflow_core.db.pool import transaction
from flashflow_core.hooks.normalize import hook_hash
from flashflow_core.db.sql import load_queries

log = logging.getLogger(__name__)

Q = load_queries("flashflow_core.hooks", "queries.sql")

# First key of the per-brand advisory lock (the second is the brand's hashtext).
BRAND_LOCK_NAMESPACE = 72_650_318

HookType = Literal["spoken", "visual", "text"]
Outcome = Literal["extracted", "missing", "not_posted", "no_brand"]


@dataclass(frozen=True)
class Hook:
    """One hook a video carries, with its hash."""

    hook_type: HookType
    text: str
    hash: str


@dataclass(frozen=True)
class ExtractionResult:
    """What extract_hook_suggestions did for one video."""

    outcome: Outcome
    hooks_found: int = 0
    suggested: int = 0


def _spoken_hook(script_json: Any, script_text: str | None) -> str | None:
    if isinstance(script_json, dict) and isinstance(script_json.get("hook"), str) and script_json["hook"].strip():
        return script_json["hook"].strip()
    for line in (script_text or "").splitlines():
        if line.strip():
            return line.strip()
    return None


def video_hooks(row: dict[str, Any]) -> list[Hook]:
    """The distinct hooks of a video row from `video_hook_sources`, in source order."""
    candidates: list[tuple[HookType, str | None]] = [
        ("spoken", _spoken_hook(row["script_locked_json"], row["script_locked_text"])),
        ("visual", row["concept_visual_hook"]),
        ("visual", row["library_visual_hook"]),
        ("text", row["concept_text_hook"]),
        ("text", row["library_text_hook"]),
    ]
    hooks: dict[tuple[str, str], Hook] = {}
    for hook_type, text in candidates:
        digest = hook_hash(text) if text else None
        if digest is not None and (hook_type, digest) not in hooks:
            hooks[(hook_type, digest)] = Hook(hook_type, text.strip(), digest)  # type: ignore[union-attr]
    return list(hooks.values())


def _skip_reason(row: dict[str, Any] | None) -> Outcome | None:
    if row is None:
        return "missing"
    if row["recording_status"] != "POSTED":
        return "not_posted"
    if row["brand_name"] is None:
        return "no_brand"
    return None


def extract_hook_suggestions(pool: ConnectionPool, *, video_id: UUID, message_id: str) -> ExtractionResult:
    """Suggest the new hooks of one posted video, in one transaction with its audit row."""
    with transaction(pool) as conn:
        row = conn.execute(Q["video_hook_sources"], {"video_id": video_id}).fetchone()
        skip = _skip_reason(row)
        if skip is not None:
            result = ExtractionResult(skip)
        else:
            assert row is not None
            hooks = video_hooks(row)
            conn.execute(Q["lock_brand"], {"namespace": BRAND_LOCK_NAMESPACE, "brand_name": row["brand_name"]})
            columns = {"video_id": video_id, "brand_name": row["brand_name"],
                       "types": [h.hook_type for h in hooks], "hashes": [h.hash for h in hooks]}
            conn.execute(Q["record_video_hooks"], columns)
            inserted = conn.execute(Q["insert_suggestions"], {**columns, "product_id": row["product_id"],
                                                              "texts": [h.text for h in hooks]}).fetchall()
            result = ExtractionResult("extracted", len(hooks), len(inserted))
            conn.execute(Q["mark_extracted"], {"video_id": video_id, "hooks_found": len(hooks),
                                               "suggested": len(inserted), "correlation_id": message_id})
        write_audit(conn, message_id=message_id, event_type="job.extract_hook_suggestions",
                    entity_type="video", entity_id=str(video_id),
                    summary=f"{result.outcome}: {result.suggested} of {result.hooks_found} hooks suggested",
                    details={"outcome": result.outcome, "hooks_found": result.hooks_found,
                             "suggested": result.suggested, "already_known": result.hooks_found - result.suggested})
    log.info("hook suggestions", extra={"video_id": str(video_id), "outcome": result.outcome,
                                        "hooks_found": result.hooks_found, "suggested": result.suggested})
    return result


def sweep_unextracted(pool: ConnectionPool, *, limit: int, message_id: str) -> list[UUID]:
    """Posted videos extract_hook_suggestions has not read yet (oldest post first, at most
    `limit`), with the sweep's audit row."""
    with transaction(pool) as conn:
        ids = [row["id"] for row in conn.execute(Q["unextracted_posted_videos"], {"limit": limit}).fetchall()]
        write_audit(conn, message_id=message_id, event_type="job.sweep_hook_suggestions", entity_type="job",
                    entity_id=None, summary=f"{len(ids)} posted videos to extract hooks from",
                    details={"videos": len(ids), "limit": limit})
    return ids
