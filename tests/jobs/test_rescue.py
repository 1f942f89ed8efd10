"""A lost Redis is survivable: flush Redis while a batch of Winners Bank videos is in flight,
and the rescue schedule (sent by the real scheduler, run by the real worker) brings every row
to `ready` or `failed`, with real yt-dlp, faster-whisper and OCR on the fixture videos."""

from __future__ import annotations

import shutil
import threading
import time

import pytest

from flashflow_core.db.pool import make_pool
from flashflow_core.scheduling.ledger import LeaderLock
from flashflow_core.scheduling.schedule_file import parse_schedules
from flashflow_core.winners.submit import ReferenceSubmission
from tests.conftest import FIXTURES
from workers.scheduler import Scheduler

pytestmark = pytest.mark.timeout(900)

VIDEOS = {"hook_speech_text.mp4": "ready", "speech_only.mp4": "ready", "silent_text.mp4": "ready",
          "no_speech_no_text.mp4": "failed"}
FINAL = ("ready", "failed")


def _statuses(conn) -> dict[str, str]:
    return {r["url"]: r["status"] for r in conn.execute("SELECT url, status FROM reference_videos").fetchall()}


def _wait(predicate, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_every_row_ends_ready_or_failed_after_redis_is_flushed_mid_batch(broker, media_server, conn, settings):
    """Downloads run first, on one thread, so transcription messages queue up in Redis beside
    fetch messages not yet taken; Redis is flushed with them in it. Workers for the other queues
    then start with the rescue schedule, and every row still ends as it should."""
    from dramatiq import Worker

    from jobs.winners import enqueue_submission

    urls = {}
    for name, expected in VIDEOS.items():
        shutil.copy(FIXTURES / name, media_server.root / name)
        urls[media_server.url(f"files/{name}")] = expected
    fetcher = Worker(broker, queues={"fetch"}, worker_threads=1, worker_timeout=100)
    others: Worker | None = None
    pool = make_pool(settings, name="rescue-test")
    stop = threading.Event()
    thread: threading.Thread | None = None
    fetcher.start()
    try:
        for url in urls:
            enqueue_submission(ReferenceSubmission(url=url, submitted_by="test"))
        waiting = f"{broker.namespace}:transcribe"
        assert _wait(lambda: broker.client.llen(waiting) >= 1, 300), _statuses(conn)
        lost_messages = broker.client.llen(waiting) + broker.client.llen(f"{broker.namespace}:fetch")
        broker.client.flushdb()

        schedule = parse_schedules({"schedules": [{
            "name": "rescue", "actor": "rescue_stuck_references", "every": 2,
            "kwargs": {"quiet_s": 15, "max_resends": 5, "batch": 100}}]})
        actors = {name: broker.get_actor(name) for name in broker.get_declared_actors()}
        scheduler = Scheduler(schedule, actors, pool, LeaderLock(settings.database_url), standby_poll_s=0.5)
        thread = threading.Thread(target=scheduler.run, args=(stop,), daemon=True)
        others = Worker(broker, queues={"transcribe", "extract", "default"}, worker_threads=2, worker_timeout=100)
        others.start()
        thread.start()
        done = _wait(lambda: all(s in FINAL for s in _statuses(conn).values()), 600)
    finally:
        stop.set()
        if thread is not None:
            thread.join(30)
        for running in (fetcher, others):
            if running is not None:
                running.stop()
        pool.close()

    statuses = _statuses(conn)
    assert done, f"rows still in flight: {statuses}"
    assert statuses == urls, "each video ends as it would have without the flush"
    resent = conn.execute("""SELECT coalesce(sum((details ->> 'resent')::int), 0) AS n FROM audit_log
                             WHERE event_type = 'job.rescue_stuck_references'""").fetchone()["n"]
    assert resent >= lost_messages >= 1, "each row whose message Redis lost was sent again by the rescue"
    failed = conn.execute("SELECT error_message FROM reference_videos WHERE status = 'failed'").fetchall()
    assert all("rescue" not in (r["error_message"] or "") for r in failed), "no row failed for want of progress"
