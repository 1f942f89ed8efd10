"""Per-site fetch politeness on real Redis: a concurrency cap per site and throttle pauses."""

from __future__ import annotations

from contextlib import ExitStack

import redis

from flashflow_core.adapters.sites import site_of
from jobs.site_limits import SiteLimits


def test_site_of_folds_hosts_and_short_links():
    assert site_of("https://www.tiktok.com/@a/video/1") == "tiktok.com"
    assert site_of("https://vm.tiktok.com/ZMabc/") == "tiktok.com"
    assert site_of("https://youtu.be/abc") == "youtube.com"
    assert site_of("http://127.0.0.1:8000/a.mp4") == "127.0.0.1"


def test_at_most_n_slots_per_site_and_sites_are_independent(redis_url):
    limits = SiteLimits(redis.Redis.from_url(redis_url), per_site=2, slot_ttl_ms=60_000)
    with ExitStack() as stack:
        got = [stack.enter_context(limits.slot("tiktok.com")) for _ in range(3)]
        other = stack.enter_context(limits.slot("instagram.com"))
        assert got == [True, True, False]
        assert other is True
    with limits.slot("tiktok.com") as again:
        assert again is True  # slots come back when released


def test_pause_extends_but_never_shortens(redis_url):
    limits = SiteLimits(redis.Redis.from_url(redis_url), per_site=1, slot_ttl_ms=60_000)
    assert limits.paused_for("tiktok.com") == 0
    limits.pause("tiktok.com", 120)
    assert 119 < limits.paused_for("tiktok.com") <= 120
    limits.pause("tiktok.com", 10)
    assert limits.paused_for("tiktok.com") > 100
    assert limits.paused_for("instagram.com") == 0


def test_a_slot_never_released_is_freed_after_its_ttl(redis_url):
    import time

    limits = SiteLimits(redis.Redis.from_url(redis_url), per_site=1, slot_ttl_ms=300)
    held = limits.slot("tiktok.com")
    assert held.__enter__() is True  # and never left, as by a worker that died holding it
    with limits.slot("tiktok.com") as second:
        assert second is False
    time.sleep(0.4)
    with limits.slot("tiktok.com") as after_ttl:
        assert after_ttl is True
