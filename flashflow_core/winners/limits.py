"""How long a Winners Bank stage may take, and every duration derived from it, in one place.

The settings FLASHFLOW_FETCH_TIMEOUT_S, FLASHFLOW_TRANSCRIBE_TIMEOUT_S and FLASHFLOW_EXTRACT_TIMEOUT_S
bound each stage's work; its child process is killed when they pass (flashflow_core.supervised).
Around the work, an attempt claims its row before and stores what it made after: FINISH_MARGIN_S
covers both. From these:

- the attempt's bound, timeout + FINISH_MARGIN_S, is Dramatiq's time limit for the stage's actor
  (a backstop: the child's kill comes first);
- the lease an attempt takes on its row outlasts the attempt's bound by LEASE_MARGIN_S, so a live
  attempt never loses it; a worker that dies leaves it to lapse;
- a per-site download slot lives as long as a fetch lease, so a slot held by a worker that died is
  freed, and a live fetch never loses its slot.
"""

from __future__ import annotations

from dataclasses import dataclass

from flashflow_core.config import Settings
from flashflow_core.winners.states import Stage

#: Claiming the row before the work, storing what it made after (two statements and file moves).
FINISH_MARGIN_S = 60
#: How much longer than the attempt's bound its lease lasts.
LEASE_MARGIN_S = 60


@dataclass(frozen=True)
class StageLimits:
    """The durations of one stage, in seconds."""

    timeout_s: float  # the work, in its child process
    attempt_s: float  # claim, work and finish: Dramatiq's time limit
    lease_s: float  # the claim on the row

    @property
    def actor_time_limit_ms(self) -> int:
        return int(self.attempt_s * 1000)


def stage_timeout_s(settings: Settings, stage: Stage) -> float:
    """The stage's own setting: how long its work may run."""
    return {
        Stage.FETCH: settings.fetch_timeout_s,
        Stage.TRANSCRIBE: settings.transcribe_timeout_s,
        Stage.EXTRACT: settings.extract_timeout_s,
    }[stage]


def stage_limits(settings: Settings, stage: Stage) -> StageLimits:
    """Every duration of `stage`, derived from its timeout."""
    timeout = stage_timeout_s(settings, stage)
    attempt = timeout + FINISH_MARGIN_S
    return StageLimits(timeout_s=timeout, attempt_s=attempt, lease_s=attempt + LEASE_MARGIN_S)


def site_slot_ttl_ms(settings: Settings) -> int:
    """How long a per-site download slot lives: as long as a fetch lease."""
    return int(stage_limits(settings, Stage.FETCH).lease_s * 1000)
