"""Every stage duration comes from the stage's timeout setting (and the lease from its own)."""

from __future__ import annotations

import pytest

from flashflow_core.config import Settings
from flashflow_core.winners.limits import FINISH_MARGIN_S, SLOT_MARGIN_S, site_slot_ttl_ms, stage_limits
from flashflow_core.winners.states import Stage


@pytest.mark.parametrize(("stage", "setting"), [(Stage.FETCH, "fetch_timeout_s"),
                                                 (Stage.TRANSCRIBE, "transcribe_timeout_s"),
                                                 (Stage.EXTRACT, "extract_timeout_s")])
def test_durations_follow_the_stage_timeout(stage: Stage, setting: str) -> None:
    limits = stage_limits(Settings(**{setting: 42, "stage_lease_s": 9}), stage)
    assert (limits.timeout_s, limits.lease_s) == (42, 9)
    assert limits.attempt_s == 42 + FINISH_MARGIN_S
    assert limits.actor_time_limit_ms == (42 + FINISH_MARGIN_S) * 1000
    assert limits.timeout_setting == "FLASHFLOW_" + setting.upper()


def test_defaults_and_the_site_slot() -> None:
    settings = Settings()
    assert stage_limits(settings, Stage.FETCH).timeout_s == 300 and settings.stage_lease_s == 60
    assert site_slot_ttl_ms(settings) == (300 + FINISH_MARGIN_S + SLOT_MARGIN_S) * 1000
    assert site_slot_ttl_ms(Settings(fetch_timeout_s=10)) < site_slot_ttl_ms(settings)
