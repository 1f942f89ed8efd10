"""The Winners Bank state machine: statuses, stages, and every move a row can make.

    queued ──fetch──▶ needs_file ──▶ needs_transcription ──transcribe──▶ processing ──extract──▶ ready
       └──────────────────┴──────────────────┴──────────────────────────────┴──────▶ failed

`queued` means a fetch message is on its way; each working status names the stage a worker is
doing. The statuses are fixed by the FlashFlow schema document; this module is the only place in
the code that spells them. SQL receives them as parameters from the `Move` that a statement
carries out, so what the tests check here is what the database is asked to do: every status
change is a conditional UPDATE from the move's `sources` to its `target`, and a row that is no
longer in a source status is left alone (a stale or duplicate message changes nothing).

Each status change is audited by the `reference_videos_transition` trigger (migration
20261201000100), which also stamps `status_changed_at` and, for a `fresh` move, resets the
per-stage counters; `flashflow_core.winners.transitions` builds what the trigger records.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ReferenceStatus(StrEnum):
    QUEUED = "queued"
    NEEDS_FILE = "needs_file"
    NEEDS_TRANSCRIPTION = "needs_transcription"
    PROCESSING = "processing"
    READY = "ready"
    FAILED = "failed"


class Stage(StrEnum):
    """A unit of work, each on its own queue so it can run on its own machines."""

    FETCH = "fetch"
    TRANSCRIBE = "transcribe"
    EXTRACT = "extract"


S = ReferenceStatus

FINAL = frozenset({S.READY, S.FAILED})
IN_FLIGHT = tuple(s for s in S if s not in FINAL)

# ---- the stage table ---------------------------------------------------------------------------

#: The statuses a stage may start from, the status it works in, and where it leads.
STAGE_STARTS_FROM: dict[Stage, tuple[S, ...]] = {
    Stage.FETCH: (S.QUEUED, S.NEEDS_FILE),
    Stage.TRANSCRIBE: (S.NEEDS_TRANSCRIPTION,),
    Stage.EXTRACT: (S.PROCESSING,),
}
STAGE_WORKS_IN: dict[Stage, S] = {
    Stage.FETCH: S.NEEDS_FILE,
    Stage.TRANSCRIBE: S.NEEDS_TRANSCRIPTION,
    Stage.EXTRACT: S.PROCESSING,
}
STAGE_LEADS_TO: dict[Stage, S] = {
    Stage.FETCH: S.NEEDS_TRANSCRIPTION,
    Stage.TRANSCRIBE: S.PROCESSING,
    Stage.EXTRACT: S.READY,
}
NEXT_STAGE: dict[Stage, Stage | None] = {
    Stage.FETCH: Stage.TRANSCRIBE,
    Stage.TRANSCRIBE: Stage.EXTRACT,
    Stage.EXTRACT: None,
}

#: Which stage a non-final status is waiting on.
STAGE_FOR_STATUS: dict[S, Stage] = {
    S.QUEUED: Stage.FETCH,
    S.NEEDS_FILE: Stage.FETCH,
    S.NEEDS_TRANSCRIPTION: Stage.TRANSCRIBE,
    S.PROCESSING: Stage.EXTRACT,
}

#: Where `retry` puts a row whose stage failed.
RETRY_STATUS: dict[Stage, S] = {
    Stage.FETCH: S.QUEUED,
    Stage.TRANSCRIBE: S.NEEDS_TRANSCRIPTION,
    Stage.EXTRACT: S.PROCESSING,
}

# ---- the moves: the one transition table -------------------------------------------------------


@dataclass(frozen=True)
class Move:
    """One kind of status change.

    `sources` are the statuses a row may be in for the move to apply (`failed_stages` narrows
    `failed` to rows that failed at one of those stages); `target` is where it goes; `event` is the
    audit_log event_type the trigger writes; a `fresh` move starts a stage afresh, so the trigger
    resets the per-stage counters and clears the previous error.
    """

    name: str
    sources: tuple[S, ...]
    target: S
    event: str
    fresh: bool
    failed_stages: tuple[Stage, ...] = ()

    def allows(self, status: S, failed_stage: Stage | None = None) -> bool:
        """Whether a row in `status` (that failed at `failed_stage`) may make this move."""
        if status not in self.sources:
            return False
        return status != S.FAILED or failed_stage in self.failed_stages


#: A worker takes the row's lease for an attempt at a stage (from queued, fetch also moves it).
CLAIM: dict[Stage, Move] = {
    stage: Move(f"{stage}.claim", STAGE_STARTS_FROM[stage], STAGE_WORKS_IN[stage],
                f"reference.{stage}.started", fresh=False)
    for stage in Stage
}
#: The stage stored what it made; the row moves on.
FINISH: dict[Stage, Move] = {
    stage: Move(f"{stage}.finish", (STAGE_WORKS_IN[stage],), STAGE_LEADS_TO[stage],
                f"reference.{stage}.done", fresh=True)
    for stage in Stage
}
#: The stage gave up on the row (a permanent error, too many retries, crashes or throttles).
FAIL: dict[Stage, Move] = {
    stage: Move(f"{stage}.fail", (STAGE_WORKS_IN[stage],), S.FAILED, f"reference.{stage}.failed", fresh=False)
    for stage in Stage
}
#: `flashflow retry`: a failed row starts again from the status its failed stage starts from.
RETRY: dict[Stage, Move] = {
    stage: Move(f"{stage}.retry", (S.FAILED,), RETRY_STATUS[stage], "reference.retried", fresh=True,
                failed_stages=(stage,))
    for stage in Stage
}
#: `flashflow attach-file`: a person supplies the video; the row resumes at transcription.
ATTACH_FILE = Move("attach_file", (S.QUEUED, S.NEEDS_FILE, S.FAILED), S.NEEDS_TRANSCRIPTION,
                   "reference.attached", fresh=True, failed_stages=(Stage.FETCH,))
#: `flashflow attach-transcript`: a person supplies the transcript; the row resumes at extraction.
ATTACH_TRANSCRIPT = Move("attach_transcript", (S.QUEUED, S.NEEDS_FILE, S.NEEDS_TRANSCRIPTION, S.FAILED),
                         S.PROCESSING, "reference.attached", fresh=True, failed_stages=tuple(Stage))
#: The stuck-work rescue gives up on a row it has re-sent too often.
ABANDON = Move("abandon", IN_FLIGHT, S.FAILED, "reference.abandoned", fresh=False)
#: `flashflow cancel` / the console: a person stops a row that is waiting (no attempt holds its lease);
#: it fails, "canceled by ...", at the stage it waited on, so `retry` can start it again.
CANCEL = Move("cancel", IN_FLIGHT, S.FAILED, "reference.canceled", fresh=False)

#: Every move the code makes; `ALLOWED` is derived from it, never written by hand.
MOVES: tuple[Move, ...] = (
    *CLAIM.values(), *FINISH.values(), *FAIL.values(), *RETRY.values(), ATTACH_FILE, ATTACH_TRANSCRIPT, ABANDON,
    CANCEL,
)

#: status -> the statuses a move can take it to (a claim that keeps the status is no change).
ALLOWED: dict[S, frozenset[S]] = {
    status: frozenset(m.target for m in MOVES if status in m.sources and m.target != status) for status in S
}


def can_move(current: S, target: S) -> bool:
    """Whether some move takes a row from `current` to `target`."""
    return target in ALLOWED[current]
