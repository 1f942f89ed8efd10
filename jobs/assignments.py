"""expire_assignments: sends videos whose assignment or legacy claim ran out back to the pool."""

from __future__ import annotations

from typing import Annotated

import dramatiq
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from flashflow_core.assignments import expiry as assignments
from jobs.runtime import current, current_message_id

BatchSize = Annotated[int, Field(ge=1, le=50_000)]


class ExpirePayload(BaseModel):
    """Arguments of expire_assignments."""

    model_config = ConfigDict(extra="forbid")
    batch_size: BatchSize = 1000


@dramatiq.actor(queue_name="default", max_retries=3, time_limit=10 * 60_000, throws=(ValidationError,))
def expire_assignments(batch_size: BatchSize = 1000) -> None:
    """Expire due assignments and claims in bounded batches (schedules.yaml: every few minutes)."""
    args = ExpirePayload(batch_size=batch_size)
    assignments.expire_assignments(current().pool, batch_size=args.batch_size, message_id=current_message_id())
