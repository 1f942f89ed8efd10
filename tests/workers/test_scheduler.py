"""The scheduler on real Postgres and Redis: one message per schedule per tick with two
schedulers running (one active, or both active as in a network partition), a clean
hand-over, and catch-up of a tick missed while every scheduler was down."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest

from flashflow_core.db.pool import make_pool
from flashflow_core.scheduling.ledger import LeaderLock, claim_fire
from flashflow_core.scheduling.schedule_file import parse_schedules
from tests.flashflow_core.job_rows import one
from workers.scheduler import Scheduler, first_run_time, latest_tick

pytestmark = pytest.mark.timeout(120)


class BothActive(LeaderLock):
    """A lock every scheduler gets: two active schedulers, as during a network partition."""

    def try_acquire(self) -> bool:
        return True

    def still_held(self) -> bool:
        return True

    def release(self) -> None:
        pass


def entries(*raw: dict):
    return parse_schedules({"schedules": list(raw)})


def sent_ticks(broker) -> Counter:
    """(schedule, fire time) of every message waiting in the default queue."""
    raw = broker.client.hgetall(f"{broker.namespace}:default.msgs")
    return Counter((m["options"]["flashflow_schedule"], m["options"].get("flashflow_fire_time"))
                   for m in (json.loads(v) for v in raw.values()))


@pytest.fixture
def actors(broker):
    return {name: broker.get_actor(name) for name in broker.get_declared_actors()}


class Schedulers:
    """Scheduler instances running in threads, stopped together before a test reads what they sent:
    reading while one is between claiming a fire and sending its message would see the two differ."""

    def __init__(self, settings, actors) -> None:
        self.settings, self.actors = settings, actors
        self.running: list[tuple[threading.Event, threading.Thread]] = []
        self.pools = []

    def __call__(self, schedule, lock=None) -> tuple[Scheduler, threading.Event]:
        pool = make_pool(self.settings, name="scheduler-test")
        self.pools.append(pool)
        scheduler = Scheduler(schedule, self.actors, pool, lock or LeaderLock(self.settings.database_url),
                              standby_poll_s=0.2, retry_s=0.2, identity=f"scheduler-{len(self.running) + 1}")
        stop = threading.Event()
        thread = threading.Thread(target=scheduler.run, args=(stop,), daemon=True)
        thread.start()
        self.running.append((stop, thread))
        return scheduler, stop

    def stop_all(self) -> None:
        for stop, _ in self.running:
            stop.set()
        for _, thread in self.running:
            thread.join(30)
            assert not thread.is_alive(), "a scheduler did not stop"

    def close(self) -> None:
        self.stop_all()
        for pool in self.pools:
            pool.close()


@pytest.fixture
def start(settings, actors):
    """Start Scheduler instances in threads; stop them all after the test."""
    schedulers = Schedulers(settings, actors)
    yield schedulers
    schedulers.close()


EVERY_SECOND = {"name": "tick", "actor": "rollup_hook_stats", "every": 1}
EVERY_TWO = {"name": "tock", "actor": "expire_assignments", "every": 2, "kwargs": {"batch_size": 10}}


def assert_each_tick_once(broker, conn, expected_min: int) -> Counter:
    ticks = sent_ticks(broker)
    assert ticks, "nothing was sent"
    assert max(ticks.values()) == 1, f"a tick was sent twice: {ticks.most_common(3)}"
    assert one(conn, "SELECT count(*) FROM flashflow_schedule_fires") == len(ticks)
    per_schedule = Counter(name for name, _ in ticks)
    assert per_schedule["tick"] >= expected_min
    # Consecutive seconds: none skipped between the first and the last.
    times = sorted(datetime.fromisoformat(t) for name, t in ticks if name == "tick")
    assert times[-1] - times[0] == timedelta(seconds=len(times) - 1)
    return ticks


def test_two_schedulers_one_active_send_each_tick_once(broker, conn, start):
    a, _ = start(entries(EVERY_SECOND, EVERY_TWO))
    b, _ = start(entries(EVERY_SECOND, EVERY_TWO))
    time.sleep(4.5)
    assert a.active.is_set() != b.active.is_set(), "exactly one scheduler is active"
    start.stop_all()
    ticks = assert_each_tick_once(broker, conn, expected_min=3)
    assert Counter(name for name, _ in ticks)["tock"] >= 1
    assert one(conn, "SELECT count(DISTINCT scheduler) FROM flashflow_schedule_fires") == 1


def test_two_active_schedulers_still_send_each_tick_once(broker, conn, start, settings):
    """Both hold 'the lock' (a partition, or a hand-over where the old one has not noticed):
    the fire ledger alone keeps it to one message per tick."""
    start(entries(EVERY_SECOND, EVERY_TWO), BothActive(settings.database_url))
    start(entries(EVERY_SECOND, EVERY_TWO), BothActive(settings.database_url))
    time.sleep(4.5)
    start.stop_all()
    assert_each_tick_once(broker, conn, expected_min=3)


def test_the_standby_takes_over_without_a_gap_or_a_double(broker, conn, start):
    a, stop_a = start(entries(EVERY_SECOND))
    time.sleep(1.5)
    assert a.active.is_set()
    b, _ = start(entries(EVERY_SECOND))
    time.sleep(1.0)
    assert not b.active.is_set()
    stop_a.set()
    deadline = time.monotonic() + 10
    while not b.active.is_set() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert b.active.is_set(), "the standby did not take over"
    time.sleep(2.5)
    start.stop_all()
    assert_each_tick_once(broker, conn, expected_min=5)
    assert one(conn, "SELECT count(DISTINCT scheduler) FROM flashflow_schedule_fires") == 2


def test_a_missed_tick_is_sent_once_on_start_within_grace(broker, conn, start):
    """Every minute, every scheduler down for ten: on start the latest tick is sent at once,
    and only that one."""
    schedule = entries({"name": "minutely", "actor": "rollup_hook_stats", "cron": "* * * * *", "grace": "10m"})
    now = datetime.now(timezone.utc)
    if now.second > 50:  # keep the test inside one minute
        time.sleep(61 - now.second)
        now = datetime.now(timezone.utc)
    expected = now.replace(second=0, microsecond=0)
    start(schedule)
    deadline = time.monotonic() + 5
    while not sent_ticks(broker) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    assert sent_ticks(broker) == Counter({("minutely", expected.isoformat()): 1})
    assert one(conn, "SELECT fire_time FROM flashflow_schedule_fires") == expected


def test_a_tick_already_sent_before_a_restart_is_not_sent_again(broker, conn, start):
    schedule = entries({"name": "hourly", "actor": "rollup_hook_stats", "cron": "0 * * * *", "grace": "2h"})
    tick = latest_tick(schedule[0], datetime.now(timezone.utc))
    claim_fire(conn, schedule="hourly", fire_time=tick, actor="rollup_hook_stats", message_id="before-crash",
               scheduler="old")
    scheduler, _ = start(schedule)
    deadline = time.monotonic() + 10
    while not scheduler.active.is_set() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1.0)
    assert sent_ticks(broker) == Counter()
    assert one(conn, "SELECT message_id FROM flashflow_schedule_fires") == "before-crash"


def test_a_tick_past_its_grace_is_not_sent(broker, conn, start):
    now = datetime.now(timezone.utc)
    five_ago = (now - timedelta(minutes=5)).minute
    schedule = entries({"name": "late", "actor": "rollup_hook_stats", "cron": f"{five_ago} * * * *", "grace": 60})
    scheduler, _ = start(schedule)
    deadline = time.monotonic() + 10
    while not scheduler.active.is_set() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1.0)
    assert sent_ticks(broker) == Counter()


def test_latest_tick_and_first_run_time():
    [hourly] = entries({"name": "h", "actor": "a", "cron": "0 * * * *", "grace": "30m"})
    now = datetime(2026, 11, 26, 12, 20, tzinfo=timezone.utc)
    assert latest_tick(hourly, now) == datetime(2026, 11, 26, 12, 0, tzinfo=timezone.utc)
    assert first_run_time(hourly, now) == datetime(2026, 11, 26, 12, 0, tzinfo=timezone.utc)
    later = datetime(2026, 11, 26, 12, 40, tzinfo=timezone.utc)
    assert latest_tick(hourly, later) is None
    assert first_run_time(hourly, later) == datetime(2026, 11, 26, 13, 0, tzinfo=timezone.utc)
    [often] = entries({"name": "o", "actor": "a", "every": 60, "grace": "10m"})
    # Ten ticks fall in the window; only the last is caught up.
    assert latest_tick(often, datetime(2026, 11, 26, 12, 20, 30, tzinfo=timezone.utc)) == \
        datetime(2026, 11, 26, 12, 20, tzinfo=timezone.utc)


def test_disabled_schedules_are_not_sent(broker, conn, start):
    scheduler, _ = start(entries({**EVERY_SECOND, "enabled": False}, EVERY_TWO))
    time.sleep(3)
    assert {name for name, _ in sent_ticks(broker)} == {"tock"}
    assert "tick" not in scheduler.entries
