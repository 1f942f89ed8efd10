"""Hook actors: suggestions from a posted video (and the nightly sweep), review of a
suggestion, and the nightly roll-up of hook stats."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import dramatiq
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from flashflow_core.hooks.review import Decision, ReviewRefused
from flashflow_core.hooks.review import review_hook_suggestion as review
from flashflow_core.hooks.rollup import rollup_hook_stats as rollup
from flashflow_core.hooks.suggestions import extract_hook_suggestions as extract
from flashflow_core.hooks.suggestions import sweep_unextracted
from jobs.runtime import current, current_message_id

SweepLimit = Annotated[int, Field(ge=1, le=100_000)]


class ExtractPayload(BaseModel):
    """Arguments of extract_hook_suggestions."""

    model_config = ConfigDict(extra="forbid")
    video_id: UUID


class SweepPayload(BaseModel):
    """Arguments of sweep_hook_suggestions."""

    model_config = ConfigDict(extra="forbid")
    limit: SweepLimit = 5000


class ReviewPayload(BaseModel):
    """Arguments of review_hook_suggestion."""

    model_config = ConfigDict(extra="forbid")
    suggestion_id: UUID
    decision: Decision
    reviewed_by: UUID
    note: str | None = Field(default=None, max_length=2000)


@dramatiq.actor(queue_name="default", max_retries=5, time_limit=60_000, throws=(ValidationError,))
def extract_hook_suggestions(video_id: str) -> None:
    """Suggest the new hooks of one posted video (sent when a video is posted)."""
    args = ExtractPayload(video_id=video_id)
    extract(current().pool, video_id=args.video_id, message_id=current_message_id())


def enqueue_hook_extraction(video_id: UUID) -> None:
    """Send extract_hook_suggestions for a video that was just posted."""
    extract_hook_suggestions.send(str(video_id))


@dramatiq.actor(queue_name="default", max_retries=3, time_limit=5 * 60_000, throws=(ValidationError,))
def sweep_hook_suggestions(limit: SweepLimit = 5000) -> None:
    """Send extract_hook_suggestions for posted videos never extracted (schedules.yaml: nightly)."""
    args = SweepPayload(limit=limit)
    for video_id in sweep_unextracted(current().pool, limit=args.limit, message_id=current_message_id()):
        enqueue_hook_extraction(video_id)


@dramatiq.actor(queue_name="default", max_retries=5, time_limit=60_000, throws=(ValidationError, ReviewRefused))
def review_hook_suggestion(suggestion_id: str, decision: Decision, reviewed_by: str, note: str | None = None) -> None:
    """Approve (into proven_hooks) or reject one hook suggestion."""
    args = ReviewPayload(suggestion_id=suggestion_id, decision=decision, reviewed_by=reviewed_by, note=note)
    review(current().pool, suggestion_id=args.suggestion_id, decision=args.decision, reviewed_by=args.reviewed_by,
           note=args.note, message_id=current_message_id())


@dramatiq.actor(queue_name="default", max_retries=3, time_limit=30 * 60_000, throws=(ValidationError,))
def rollup_hook_stats() -> None:
    """Recompute posted and winner counts of proven hooks and scripts (schedules.yaml: nightly)."""
    rollup(current().pool, message_id=current_message_id())
