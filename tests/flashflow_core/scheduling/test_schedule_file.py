"""schedules.yaml: the repository's file loads, and each kind of mistake is refused with a
message naming the entry and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from flashflow_core.scheduling.schedule_file import ScheduleError, load_schedules, parse_duration, parse_schedules
from tests.conftest import ROOT


def test_repository_schedules_load():
    entries = {e.name: e for e in load_schedules(ROOT / "schedules.yaml")}
    assert entries["expire-assignments"].actor == "expire_assignments"
    assert entries["expire-assignments"].every == 300
    assert entries["renew-credits"].cron == "7 * * * *"
    assert entries["rescue-stuck-references"].actor == "rescue_stuck_references"
    assert entries["rescue-stuck-references"].every == 120
    assert {"sweep-hook-suggestions", "rollup-hook-stats"} <= set(entries)


def test_defaults_apply_and_entries_override():
    entries = parse_schedules({
        "defaults": {"timezone": "Europe/London", "grace": "15m"},
        "schedules": [{"name": "a", "actor": "x", "cron": "0 9 * * 1-5"},
                      {"name": "b", "actor": "y", "every": "1h30m", "timezone": "UTC", "grace": 30,
                       "kwargs": {"n": 1}, "enabled": False}],
    })
    assert [(e.timezone, e.grace) for e in entries] == [("Europe/London", 900), ("UTC", 30)]
    assert entries[1].every == 5400 and entries[1].kwargs == {"n": 1} and not entries[1].enabled
    assert entries[0].when == "cron 0 9 * * 1-5" and entries[1].when == "every 1h30m"


@pytest.mark.parametrize(("entry", "message"), [
    ({"name": "c", "actor": "x", "cron": "0 9 * * 8"}, "entry 1 ('c'): cron: day of week: 8 is out of range 0-7"),
    ({"name": "c", "actor": "x"}, "entry 1 ('c'): give exactly one of `cron`"),
    ({"name": "c", "actor": "x", "cron": "@daily", "every": 60}, "entry 1 ('c'): give exactly one of `cron`"),
    ({"name": "c", "actor": "x", "every": "5x"}, "entry 1 ('c'): every: '5x' is not a duration"),
    ({"name": "c", "actor": "x", "every": 0}, "entry 1 ('c'): every: Input should be greater than or equal to 1"),
    ({"name": "c", "actor": "x", "every": 5, "timezone": "Mars/Base"}, "timezone: unknown time zone 'Mars/Base'"),
    ({"name": "c", "actor": "x", "every": 5, "kwarg": {}}, "entry 1 ('c'): kwarg: Extra inputs are not permitted"),
    ({"name": "Bad Name", "actor": "x", "every": 5}, "entry 1 ('Bad Name'): name: String should match pattern"),
    ({"actor": "x", "every": 5}, "entry 1: name: Field required"),
])
def test_bad_entries_are_named(entry, message):
    with pytest.raises(ScheduleError) as caught:
        parse_schedules({"schedules": [entry]})
    assert message in str(caught.value)


def test_duplicate_names_and_bad_documents():
    with pytest.raises(ScheduleError, match=r"entry 2 \('a'\): the name 'a' is used twice"):
        parse_schedules({"schedules": [{"name": "a", "actor": "x", "every": 5}] * 2})
    with pytest.raises(ScheduleError, match="expected a mapping with a `schedules:` list"):
        parse_schedules(["not", "a", "mapping"])
    with pytest.raises(ScheduleError, match="unknown top-level key"):
        parse_schedules({"schedules": [], "schedule": []})
    with pytest.raises(ScheduleError, match="defaults: timezone: unknown time zone"):
        parse_schedules({"defaults": {"timezone": "Nowhere"}, "schedules": []})


def test_unreadable_and_invalid_files(tmp_path: Path):
    with pytest.raises(ScheduleError, match="cannot read the schedules file"):
        load_schedules(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("schedules: [\n", encoding="utf-8")
    with pytest.raises(ScheduleError, match="not valid YAML"):
        load_schedules(bad)


@pytest.mark.parametrize(("text", "seconds"), [(90, 90), ("90s", 90), ("5m", 300), ("2h", 7200), ("1d", 86400),
                                               ("1h30m", 5400), ("1d2h3m4s", 93784)])
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "m", "5 minutes", "1.5h", True, None])
def test_bad_durations(text):
    with pytest.raises(ValueError, match="is not a duration"):
        parse_duration(text)
