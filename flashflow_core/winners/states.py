"""The Winners Bank state machine: statuses, stages, and which transitions are allowed.

    queued ──fetch──▶ needs_file ──▶ needs_transcription ──transcribe──▶ processing ──extract──▶ ready
       └──────────────────┴──────────────────┴──────────────────────────────┴──────▶ failed

`queued` means a fetch message is on its way; each working status names the stage a worker is
doing. Every change is a conditional UPDATE from the expected status (see queries.sql), so a
duplicate or stale message changes nothing. A failed row goes back to the status its failed stage
starts from (`retry`).
"""

from __future__ import annotations

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

ALLOWED: dict[S, frozenset[S]] = {
    S.QUEUED: frozenset({S.NEEDS_FILE, S.NEEDS_TRANSCRIPTION, S.PROCESSING, S.FAILED}),
    S.NEEDS_FILE: frozenset({S.NEEDS_TRANSCRIPTION, S.PROCESSING, S.FAILED}),
    S.NEEDS_TRANSCRIPTION: frozenset({S.PROCESSING, S.FAILED}),
    S.PROCESSING: frozenset({S.READY, S.FAILED}),
    S.READY: frozenset(),
    S.FAILED: frozenset({S.QUEUED, S.NEEDS_TRANSCRIPTION, S.PROCESSING}),
}


def can_move(current: S, target: S) -> bool:
    """Whether the state machine allows current -> target."""
    return target in ALLOWED[current]
