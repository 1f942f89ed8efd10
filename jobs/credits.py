"""renew_credits: moves due subscriptions to their next period and resets their credits."""

from __future__ import annotations

from typing import Annotated

import dramatiq
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from flashflow_core.credits import renewal as credits
from jobs.runtime import current, current_message_id

BatchSize = Annotated[int, Field(ge=1, le=10_000)]


class RenewPayload(BaseModel):
    """Arguments of renew_credits."""

    model_config = ConfigDict(extra="forbid")
    batch_size: BatchSize = 500


@dramatiq.actor(queue_name="default", max_retries=5, time_limit=15 * 60_000, throws=(ValidationError,))
def renew_credits(batch_size: BatchSize = 500) -> None:
    """Renew due subscriptions, exactly once per user per period (schedules.yaml: hourly)."""
    args = RenewPayload(batch_size=batch_size)
    credits.renew_credits(current().pool, batch_size=args.batch_size, message_id=current_message_id())
