"""The scheduler process: sends each schedule's Dramatiq message on time, and nothing else.

Several may run (one per machine); one is active at a time (the Postgres advisory lock in
`flashflow_core.scheduling.ledger`), the others poll for the lock. The active one runs an
APScheduler 3 `BackgroundScheduler` whose executor claims each tick in the fire ledger and
sends the message in that same transaction, so each tick is sent once however the schedulers
overlap. On taking over, each schedule starts from its latest tick within its grace window:
a tick missed while every scheduler was down is sent once (not once per missed tick), and a
tick already sent is found in the ledger and not sent again.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

import dramatiq
import psycopg
import redis
from apscheduler.executors.base import BaseExecutor
from apscheduler.job import Job
from apscheduler.schedulers.background import BackgroundScheduler
from dramatiq.errors import ConnectionError as BrokerConnectionError
from psycopg_pool import ConnectionPool

from flashflow_core.config import Settings
from flashflow_core.db.pool import make_pool
from flashflow_core.scheduling.ledger import LeaderLock, claim_fire, prune_fires
from flashflow_core.scheduling.schedule_file import ScheduleEntry, load_schedules
from jobs.boot import boot
from jobs.scheduled import check_schedules, tick_message
from workers.exit_codes import ExitCode

log = logging.getLogger(__name__)

LEDGER_KEEP_S = 30 * 86400
# Cap on ticks stepped through when looking for the latest one within a grace window.
_MAX_STEPS = 100_000


def latest_tick(entry: ScheduleEntry, now: datetime) -> datetime | None:
    """The last fire time in [now - grace, now], or None."""
    trigger = entry.trigger
    tick = trigger.get_next_fire_time(None, now - timedelta(seconds=entry.grace))
    latest = None
    for _ in range(_MAX_STEPS):
        if tick is None or tick > now:
            break
        latest = tick
        tick = trigger.get_next_fire_time(tick, tick)
    return latest


def first_run_time(entry: ScheduleEntry, now: datetime) -> datetime | None:
    """Where an active scheduler starts a schedule: its latest tick within grace, else the next one."""
    return latest_tick(entry, now) or entry.trigger.get_next_fire_time(None, now)


def scheduler_identity() -> str:
    """How a scheduler process names itself in the fire ledger and its lock session: host:pid."""
    return f"{socket.gethostname()}:{os.getpid()}"


class Scheduler:
    """Sends ticks for `entries` while it holds the leader lock; stands by otherwise."""

    def __init__(self, entries: list[ScheduleEntry], actors: dict[str, dramatiq.Actor], pool: ConnectionPool,
                 lock: LeaderLock, *, standby_poll_s: float = 5.0, retry_s: float = 2.0,
                 identity: str | None = None) -> None:
        check_schedules(entries, actors)
        self.entries = {entry.name: entry for entry in entries if entry.enabled}
        self.actors = actors
        self.pool = pool
        self.lock = lock
        self.standby_poll_s = standby_poll_s
        self.retry_s = retry_s
        self.identity = identity or scheduler_identity()
        self.active = threading.Event()
        self._stop = threading.Event()

    def fire(self, name: str, fire_time: datetime) -> str | None:
        """Claim one tick and send its message in one transaction; the message id, or None when
        the tick was sent already or is later than its grace."""
        entry = self.entries[name]
        late = datetime.now(timezone.utc) - fire_time
        if late > timedelta(seconds=entry.grace):
            log.warning("tick is past its grace window; not sent",
                        extra={"schedule": name, "fire_time": fire_time.isoformat(), "late_s": late.total_seconds()})
            return None
        actor = self.actors[entry.actor]
        message = tick_message(entry, actor, fire_time)
        with self.pool.connection() as conn, conn.transaction():
            if not claim_fire(conn, schedule=name, fire_time=fire_time, actor=entry.actor,
                              message_id=message.message_id, scheduler=self.identity):
                log.info("tick already sent", extra={"schedule": name, "fire_time": fire_time.isoformat()})
                return None
            actor.broker.enqueue(message)
        log.info("tick sent", extra={"schedule": name, "actor": entry.actor, "fire_time": fire_time.isoformat(),
                                     "message_id": message.message_id})
        return message.message_id

    def fire_until_sent(self, name: str, fire_time: datetime) -> str | None:
        """`fire`, tried again while Postgres or Redis is unreachable and the tick is within grace."""
        while True:
            try:
                return self.fire(name, fire_time)
            except (psycopg.OperationalError, redis.ConnectionError, redis.TimeoutError,
                    BrokerConnectionError) as exc:
                log.warning("tick not sent yet; retrying", extra={"schedule": name, "error": str(exc)})
                if self._stop.wait(self.retry_s) or not self.active.is_set():
                    return None

    def run(self, stop: threading.Event) -> None:
        """Stand by or lead until `stop` is set."""
        self._stop = stop
        while not stop.is_set():
            if not self.lock.try_acquire():
                stop.wait(self.standby_poll_s)
                continue
            log.info("this scheduler is now the active one", extra={"scheduler": self.identity})
            try:
                self._lead(stop)
            except psycopg.OperationalError as exc:
                log.error("lost Postgres while active; standing by", extra={"scheduler": self.identity,
                                                                           "error": str(exc)})
                stop.wait(self.standby_poll_s)
            finally:
                self.active.clear()
                self.lock.release()

    def _lead(self, stop: threading.Event) -> None:
        with self.pool.connection() as conn:
            prune_fires(conn, LEDGER_KEEP_S)
        now = datetime.now(timezone.utc)
        scheduler = BackgroundScheduler(timezone=timezone.utc, executors={"default": _FireExecutor()})
        for entry in self.entries.values():
            # fire_time is a placeholder here: the executor passes each due tick's scheduled time.
            scheduler.add_job(self.fire_until_sent, trigger=entry.trigger, args=(entry.name,),
                              kwargs={"fire_time": None}, id=entry.name,
                              name=entry.name, next_run_time=first_run_time(entry, now), coalesce=True,
                              max_instances=1, misfire_grace_time=entry.grace)
        self.active.set()
        scheduler.start()
        try:
            while not stop.wait(self.standby_poll_s):
                if not self.lock.still_held():
                    log.error("lost the scheduler lock; standing by", extra={"scheduler": self.identity})
                    break
        finally:
            self.active.clear()
            scheduler.shutdown(wait=True)


class _FireExecutor(BaseExecutor):
    """APScheduler executor that calls each job with the due tick's scheduled time as
    `fire_time` (APScheduler's own executors call jobs without it)."""

    def __init__(self) -> None:
        super().__init__()
        self._threads = ThreadPoolExecutor(max_workers=4, thread_name_prefix="flashflow-tick")

    def _do_submit_job(self, job: Job, run_times: list[datetime]) -> None:
        def send() -> None:
            for run_time in run_times:
                job.func(*job.args, **{**job.kwargs, "fire_time": run_time})

        def done(future) -> None:
            exc = future.exception()
            if exc is None:
                self._run_job_success(job.id, [])
            else:
                self._run_job_error(job.id, exc, exc.__traceback__)

        self._threads.submit(send).add_done_callback(done)

    def shutdown(self, wait: bool = True) -> None:
        self._threads.shutdown(wait=wait)


def run_scheduler(settings: Settings, schedules_path: Path | None = None, standby_poll_s: float = 5.0) -> int:
    """The `flashflow scheduler` process: validate schedules.yaml, then lead or stand by until
    SIGTERM/SIGINT."""
    entries = load_schedules(schedules_path or settings.schedules_file)
    actors = boot(settings).actors
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    pool = make_pool(settings, name="flashflow-scheduler")
    try:
        identity = scheduler_identity()
        scheduler = Scheduler(entries, actors, pool, LeaderLock(settings.database_url or "", identity=identity),
                              standby_poll_s=standby_poll_s, identity=identity)
        log.info("scheduler started", extra={"schedules": sorted(scheduler.entries), "scheduler": scheduler.identity})
        scheduler.run(stop)
    finally:
        pool.close()
    return ExitCode.OK
