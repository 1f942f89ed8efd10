"""Winners Bank actors: one per stage, each on its own queue, plus enqueue and rescue.

Actors are thin: validate the payload, run one attempt through `flashflow_core`, then send
the next stage's message. The finish that moved the row on also marked it as owing that message,
and the send settles the mark: a worker that dies (or loses Redis) between the two leaves the row
to a worker's intake, which sends it within seconds (`flashflow_core.winners.intake`).
"""

from __future__ import annotations

import logging
import random
from dataclasses import replace
from uuid import UUID

import dramatiq
import dramatiq.errors
import redis
from dramatiq.middleware import CurrentMessage
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from flashflow_core.adapters.sites import site_of
from flashflow_core.ops.redis_keys import BrokerKeys, delay_queue
from flashflow_core.winners.pipeline import StageResult, reference_url
from flashflow_core.winners.intake import settle
from flashflow_core.winners.rescue import find_stuck
from flashflow_core.config import Settings
from flashflow_core.winners.limits import site_slot_ttl_ms, stage_limits
from flashflow_core.winners.states import Stage
from flashflow_core.winners.submit import (
    ReferenceSubmission,
    Submitted,
    submit_reference,
)
from jobs.runtime import current, current_message_id
from jobs.site_limits import SiteLimits

log = logging.getLogger(__name__)

# Dramatiq's own retry count only backs up the attempt count kept in Postgres
# (FLASHFLOW_STAGE_MAX_RETRIES), which decides when a row fails. Each stage actor's time limit
# comes from the settings (flashflow_core.winners.limits), set by `apply_time_limits` at boot.
STAGE_RETRY_OPTIONS = {"max_retries": 20, "min_backoff": 2_000, "max_backoff": 300_000}


class StageRetry(Exception):
    """Raised so Dramatiq retries the message with backoff; the row's attempts are in Postgres."""


class ReferencePayload(BaseModel):
    """Arguments of the stage actors."""

    model_config = ConfigDict(extra="forbid")
    reference_id: UUID


class RescuePayload(BaseModel):
    """Arguments of rescue_stuck_references."""

    model_config = ConfigDict(extra="forbid")
    quiet_s: float = Field(default=600.0, gt=0, description="Untouched for this long (no live lease): stuck.")
    max_resends: int = Field(default=3, ge=0, le=100, description="Resends before a stuck row fails.")
    batch: int = Field(default=500, ge=1, le=10_000, description="Rows looked at per run.")


def _run(stage: Stage, reference_id: str) -> StageResult:
    payload = ReferencePayload(reference_id=reference_id)
    result = current().pipeline.run_stage(stage, payload.reference_id, current_message_id())
    log.info("stage attempt", extra={"stage": str(stage), "reference_id": str(payload.reference_id),
                                     "outcome": result.outcome, "detail": result.detail})
    if result.outcome == "advanced" and result.next_stage is not None:
        send_owed(result.next_stage, payload.reference_id, result.correlation_id)
    elif result.outcome == "retry":
        raise StageRetry(f"{stage} {payload.reference_id}: {result.detail}")
    return result


@dramatiq.actor(queue_name="fetch", throws=(ValidationError,), **STAGE_RETRY_OPTIONS)
def fetch_reference(reference_id: str) -> None:
    """Download the video of a reference row (yt-dlp), polite to each site."""
    rt = current()
    url = reference_url(rt.pool, ReferencePayload(reference_id=reference_id).reference_id)
    if url is None:
        log.warning("no such reference video; message dropped", extra={"reference_id": reference_id})
        return
    limits = SiteLimits(rt.redis, rt.settings.fetch_concurrency_per_site, site_slot_ttl_ms(rt.settings))
    site = site_of(url)
    paused = limits.paused_for(site)
    if paused > 0:
        _fetch_later(reference_id, int((paused + random.random() * 5) * 1000))
        return
    with limits.slot(site) as acquired:
        if not acquired:
            _fetch_later(reference_id, random.randint(1_000, 5_000))
            return
        result = _run(Stage.FETCH, reference_id)
    if result.outcome == "throttled":
        pause = result.retry_after_s or rt.settings.fetch_throttle_pause_s
        limits.pause(result.site or site, pause)
        _fetch_later(reference_id, int(pause * 1000))


def _fetch_later(reference_id: str, delay_ms: int) -> None:
    """Send this fetch again after `delay_ms`, keeping the run's correlation id."""
    message = CurrentMessage.get_current_message()
    run = message.options.get("correlation_id") if message is not None else None
    fetch_reference.send_with_options(args=(reference_id,), delay=delay_ms, **({"correlation_id": run} if run else {}))


@dramatiq.actor(queue_name="transcribe", throws=(ValidationError,), **STAGE_RETRY_OPTIONS)
def transcribe_reference(reference_id: str) -> None:
    """Extract the audio and transcribe it (Whisper)."""
    _run(Stage.TRANSCRIBE, reference_id)


@dramatiq.actor(queue_name="extract", throws=(ValidationError,), **STAGE_RETRY_OPTIONS)
def extract_reference(reference_id: str) -> None:
    """Read on-screen text and extract the hook package."""
    _run(Stage.EXTRACT, reference_id)


STAGE_ACTORS: dict[Stage, dramatiq.Actor] = {
    Stage.FETCH: fetch_reference,
    Stage.TRANSCRIBE: transcribe_reference,
    Stage.EXTRACT: extract_reference,
}


def apply_time_limits(settings: Settings) -> None:
    """Give each stage actor its Dramatiq time limit: the stage's attempt bound from the settings."""
    for stage, actor in STAGE_ACTORS.items():
        actor.options["time_limit"] = stage_limits(settings, stage).actor_time_limit_ms


def send_stage(stage: Stage, reference_id: UUID, correlation_id: str | None = None) -> None:
    """Send the message that runs `stage` for a reference row; the row's run (`correlation_id`)
    travels as a message option, so the stage's log lines carry it."""
    options = {"correlation_id": correlation_id} if correlation_id else {}
    STAGE_ACTORS[stage].send_with_options(args=(str(reference_id),), **options)


@dramatiq.actor(queue_name="default", max_retries=5, time_limit=60_000, throws=(ValidationError,))
def enqueue_reference(url: str, submitted_by: str = "api", category: str | None = None,
                      notes: str | None = None) -> None:
    """Add a URL to the Winners Bank (for producers without Python); same as `flashflow enqueue`."""
    submission = ReferenceSubmission(url=url, submitted_by=submitted_by, category=category, notes=notes)
    enqueue_submission(submission, message_id=current_message_id())


def enqueue_submission(submission: ReferenceSubmission, message_id: str | None = None,
                       send: bool = True) -> Submitted:
    """Insert the row, owing its fetch message (committed), then, when it is new, send that message
    (unless `send` is false) and settle it. `submitted.sent` is false when the message is still
    owed: a worker's intake sends it once Redis answers (`flashflow_core.winners.intake`).
    `message_id` is the message of the job doing it (enqueue_reference), recorded on the
    submission's audit row."""
    submitted = submit_reference(current().pool, submission, message_id=message_id)
    if submitted.created and send:
        return replace(submitted, sent=send_owed(Stage.FETCH, submitted.id, submitted.correlation_id))
    return submitted


def send_owed(stage: Stage, reference_id: UUID, correlation_id: str | None = None) -> bool:
    """Send the message a row owes (marked in the transaction that made it owe one) and settle it.
    False when Redis did not take it: the row stays owed and a worker's intake sends it later."""
    try:
        send_stage(stage, reference_id, correlation_id)
    except (redis.ConnectionError, redis.TimeoutError, dramatiq.errors.ConnectionError) as exc:
        log.warning("message not sent; the row owes it and a worker sends it when Redis answers",
                    extra={"stage": str(stage), "reference_id": str(reference_id), "error": str(exc)})
        return False
    settle(current().pool, [reference_id], stage)
    return True


@dramatiq.actor(queue_name="default", max_retries=3, time_limit=5 * 60_000, throws=(ValidationError,))
def rescue_stuck_references(quiet_s: float = 600.0, max_resends: int = 3, batch: int = 500) -> None:
    """Send again the in-flight rows whose message was lost; fail rows that never progress.

    A stage whose queue (or delay queue) still holds messages is left alone: its rows may just be
    waiting their turn (a backlog, a paused site), and resending would only add duplicates.
    """
    args = RescuePayload(quiet_s=quiet_s, max_resends=max_resends, batch=batch)
    rescue = find_stuck(current().pool, quiet_s=args.quiet_s, max_resends=args.max_resends,
                        batch=args.batch, message_id=current_message_id(), skip_stages=_stages_with_backlog())
    for row in rescue.resend:
        send_stage(row.stage, row.reference_id, row.correlation_id)


def _stages_with_backlog() -> list[Stage]:
    broker = dramatiq.get_broker()
    keys = BrokerKeys(broker.namespace)
    busy = []
    for stage, actor in STAGE_ACTORS.items():
        queue = actor.queue_name
        if broker.client.llen(keys.queue(queue)) or broker.client.llen(keys.queue(delay_queue(queue))):
            busy.append(stage)
    return busy
