"""How long a Winners Bank stage may take, and every duration derived from it, in one place.

The settings FLASHFLOW_FETCH_TIMEOUT_S, FLASHFLOW_TRANSCRIBE_TIMEOUT_S and FLASHFLOW_EXTRACT_TIMEOUT_S
bound each stage's work: its child process is killed when they pass (flashflow_core.supervised).
Around the work, an attempt claims its row before and stores what it made after: FINISH_MARGIN_S
covers both. From these:

- the attempt's bound, timeout + FINISH_MARGIN_S, is Dramatiq's time limit for the stage's actor
  (a backstop: the child's kill comes first) and the longest its lease is renewed;
- a per-site download slot lives a fetch attempt's bound plus SLOT_MARGIN_S, so a live fetch
  never loses its slot and a slot held by a worker that died is freed.

The lease itself does not need to outlast the attempt: it is renewed every third of
FLASHFLOW_STAGE_LEASE_S while the attempt lives (leases.py), so it lapses that long after the
attempt's worker died or froze, not a whole stage timeout later.
"""

from __future__ import annotations

from dataclasses import dataclass

from flashflow_core.config import Settings
from flashflow_core.winners.states import Stage

#: Claiming the row before the work, storing what it made after (statements and file moves).
FINISH_MARGIN_S = 60
#: How much longer than a fetch attempt's bound a per-site download slot lives.
SLOT_MARGIN_S = 60


@dataclass(frozen=True)
class StageLimits:
    """The durations of one stage, in seconds."""

    timeout_s: float  # the work, in its child process
    attempt_s: float  # claim, work and finish: Dramatiq's time limit; the lease is renewed this long at most
    lease_s: float  # the claim on the row, between two renewals
    timeout_setting: str  # the variable that sets timeout_s, for messages

    @property
    def actor_time_limit_ms(self) -> int:
        return int(self.attempt_s * 1000)


def stage_limits(settings: Settings, stage: Stage) -> StageLimits:
    """Every duration of `stage`, derived from its timeout."""
    timeout = {
        Stage.FETCH: settings.fetch_timeout_s,
        Stage.TRANSCRIBE: settings.transcribe_timeout_s,
        Stage.EXTRACT: settings.extract_timeout_s,
    }[stage]
    return StageLimits(timeout_s=timeout, attempt_s=timeout + FINISH_MARGIN_S, lease_s=settings.stage_lease_s,
                       timeout_setting=f"FLASHFLOW_{str(stage).upper()}_TIMEOUT_S")


def site_slot_ttl_ms(settings: Settings) -> int:
    """How long a per-site download slot lives."""
    return int((stage_limits(settings, Stage.FETCH).attempt_s + SLOT_MARGIN_S) * 1000)
