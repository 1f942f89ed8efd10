"""Crontab lines mean what crontab means, pinned against known dates (26 Nov 2026 is a
Thursday)."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from flashflow_core.scheduling.cron import CronError, crontab_trigger, interval_trigger, parse_crontab

UTC = timezone.utc
THU = datetime(2026, 11, 26, 12, 0, 30, tzinfo=UTC)


def fires(expr: str, after: datetime, count: int, tz: str = "UTC") -> list[str]:
    trigger = crontab_trigger(expr, ZoneInfo(tz))
    out, previous, now = [], None, after
    for _ in range(count):
        tick = trigger.get_next_fire_time(previous, now)
        out.append(tick.astimezone(ZoneInfo(tz)).strftime("%a %d %H:%M"))
        previous = now = tick
    return out


@pytest.mark.parametrize("expr", ["0 9 * * 0", "0 9 * * 7", "0 9 * * sun", "0 9 * * SUN"])
def test_day_of_week_zero_seven_and_sun_are_sunday(expr):
    assert fires(expr, THU, 2) == ["Sun 29 09:00", "Sun 06 09:00"]


@pytest.mark.parametrize("expr", ["30 8 * * 1-5", "30 8 * * mon-fri", "30 8 * * Mon,Tue,Wed,Thu,Fri"])
def test_weekdays_are_monday_to_friday(expr):
    assert fires(expr, THU, 6) == ["Fri 27 08:30", "Mon 30 08:30", "Tue 01 08:30", "Wed 02 08:30",
                                   "Thu 03 08:30", "Fri 04 08:30"]


def test_monday_is_one_not_zero():
    # APScheduler 3's own numbering would make 1 Tuesday.
    assert fires("0 0 * * 1", THU, 1) == ["Mon 30 00:00"]


def test_range_through_seven_wraps_to_sunday():
    assert fires("0 12 * * 5-7", THU, 4) == ["Fri 27 12:00", "Sat 28 12:00", "Sun 29 12:00", "Fri 04 12:00"]


def test_restricted_day_of_month_and_week_fire_on_either():
    # crontab: "the 1st, and every Sunday" (Tue 1 Dec 2026 is not a Sunday).
    assert fires("0 0 1 * 0", THU, 3) == ["Sun 29 00:00", "Tue 01 00:00", "Sun 06 00:00"]


def test_star_day_of_month_means_day_of_week_alone():
    assert fires("0 0 * * 3", THU, 2) == ["Wed 02 00:00", "Wed 09 00:00"]


def test_steps_ranges_lists_and_month_names():
    assert fires("*/20 9-10 * * *", THU, 7) == ["Fri 27 09:00", "Fri 27 09:20", "Fri 27 09:40", "Fri 27 10:00",
                                                "Fri 27 10:20", "Fri 27 10:40", "Sat 28 09:00"]
    assert fires("0 6 1 jan,jul *", THU, 2) == ["Fri 01 06:00", "Thu 01 06:00"]  # 1 Jan 2027, 1 Jul 2027


def test_macros():
    assert fires("@weekly", THU, 1) == ["Sun 29 00:00"]
    assert fires("@daily", THU, 1) == ["Fri 27 00:00"]
    assert fires("@hourly", THU, 1) == ["Thu 26 13:00"]


def test_time_zone_and_daylight_saving_fire_once_a_day():
    # Europe/London: clocks go back 25 Oct 2026 (01:00-02:00 happens twice), forward 29 Mar 2026.
    autumn = fires("30 1 * * *", datetime(2026, 10, 24, 12, tzinfo=UTC), 3, "Europe/London")
    assert autumn == ["Sun 25 01:30", "Mon 26 01:30", "Tue 27 01:30"]
    spring = fires("30 1 * * *", datetime(2026, 3, 28, 12, tzinfo=UTC), 2, "Europe/London")
    assert spring[1] == "Mon 30 01:30" and spring[0].startswith("Sun 29")
    # An every-20-minutes line keeps firing through the repeated hour.
    repeated = fires("*/20 * * * *", datetime(2026, 10, 24, 23, 50, tzinfo=UTC), 5, "Europe/London")
    assert repeated == ["Sun 25 01:00", "Sun 25 01:20", "Sun 25 01:40", "Sun 25 01:00", "Sun 25 01:20"]


def test_interval_fires_on_the_same_grid_everywhere():
    trigger = interval_trigger(120, UTC)
    assert trigger.get_next_fire_time(None, datetime(2026, 11, 26, 12, 0, 30, tzinfo=UTC)) == \
        datetime(2026, 11, 26, 12, 2, tzinfo=UTC)
    assert interval_trigger(120, UTC).get_next_fire_time(None, datetime(2026, 11, 26, 12, 1, 59, tzinfo=UTC)) == \
        datetime(2026, 11, 26, 12, 2, tzinfo=UTC)


@pytest.mark.parametrize(("expr", "message"), [
    ("0 9 * *", "has 4 fields"),
    ("60 * * * *", "minute: 60 is out of range 0-59"),
    ("0 24 * * *", "hour: 24 is out of range 0-23"),
    ("0 0 0 * *", "day of month: 0 is out of range 1-31"),
    ("0 0 * 13 *", "month: 13 is out of range 1-12"),
    ("0 0 * * 8", "day of week: 8 is out of range 0-7"),
    ("0 0 * * fri-mon", "day of week: range 'fri-mon' runs backwards"),
    ("*/0 * * * *", "minute: step '0'"),
    ("5/15 * * * *", "minute: a step needs a range or '*'"),
    ("0 0 ? * *", "day of month: '?' is not a value"),
    ("0 0 L * *", "day of month: 'L' is not a value"),
    ("0 0 * * mon#2", "day of week: 'mon#2' is not a value"),
    ("0 0 * * 1,,2", "day of week: empty list element"),
    ("@reboot", "unknown macro '@reboot'"),
])
def test_bad_lines_name_the_field(expr, message):
    with pytest.raises(CronError, match=re.escape(message)):
        parse_crontab(expr)


def test_parse_folds_seven_into_zero():
    spec = parse_crontab("0 0 * * 5-7")
    assert spec.day_of_week == {5, 6, 0}
    assert not spec.dow_star and spec.day_star
