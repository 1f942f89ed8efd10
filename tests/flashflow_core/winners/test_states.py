"""The state machine's tables agree with each other: every move the stages, retry and attach
make is one the transition table allows, and final statuses lead nowhere but retry."""

from __future__ import annotations

from flashflow_core.winners.states import (
    FINAL,
    RETRY_STATUS,
    STAGE_FOR_STATUS,
    STAGE_LEADS_TO,
    STAGE_STARTS_FROM,
    STAGE_WORKS_IN,
    ReferenceStatus,
    Stage,
    can_move,
)

S = ReferenceStatus


def test_every_stage_move_is_allowed():
    for stage in Stage:
        works_in, leads_to = STAGE_WORKS_IN[stage], STAGE_LEADS_TO[stage]
        for start in STAGE_STARTS_FROM[stage]:
            assert start == works_in or can_move(start, works_in), (stage, start)
            assert STAGE_FOR_STATUS[start] == stage
        assert can_move(works_in, leads_to) and can_move(works_in, S.FAILED)


def test_retry_and_attach_moves_are_allowed():
    for status in RETRY_STATUS.values():
        assert can_move(S.FAILED, status)
    for start in (S.QUEUED, S.NEEDS_FILE, S.FAILED):
        assert can_move(start, S.NEEDS_TRANSCRIPTION)  # attach-file
    for start in (S.QUEUED, S.NEEDS_FILE, S.NEEDS_TRANSCRIPTION, S.FAILED):
        assert can_move(start, S.PROCESSING)  # attach-transcript


def test_ready_is_the_end_and_nothing_skips_back():
    assert not any(can_move(S.READY, other) for other in S)
    assert FINAL == {S.READY, S.FAILED}
    assert not can_move(S.PROCESSING, S.NEEDS_FILE) and not can_move(S.NEEDS_TRANSCRIPTION, S.QUEUED)
