"""Orchestration cost of the Winners Bank: N reference videos through every state with instant
stand-in stages, against a bare chain of Dramatiq no-op actors sending the same number of
messages, in the same run, on the same broker and worker settings. For both, the first message
of every video is queued before the worker starts, and the clock runs from the worker's start
until the last video is done; the submissions (row insert + audit + first message) are timed
on their own.

    .venv/bin/python -m bench.bench_pipeline_orchestration [--videos 2000] [--threads 8]

Prints videos per second for both and the ratio (aim: at least 0.5).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import dramatiq
from dramatiq import Worker

from bench.common import scratch_settings, wait_until
from flashflow_core.winners.states import ReferenceStatus
from flashflow_core.winners.submit import ReferenceSubmission

MESSAGES_PER_VIDEO = 3  # fetch, transcribe, extract
SITES = 50


def run_pipeline(settings, videos: int, threads: int) -> tuple[float, float]:
    """(seconds to submit the rows and their first messages, seconds for the worker to take every
    row to ready). The worker starts after the submissions, as with the bare chain."""
    from jobs.boot import boot
    from jobs.winners import enqueue_submission

    rt = boot(settings)
    broker = rt.broker
    start = time.perf_counter()
    for i in range(videos):
        # 50 sites, so the per-site download cap (FLASHFLOW_FETCH_CONCURRENCY_PER_SITE) rarely bites.
        url = f"https://site{i % SITES}.example/v/{i}.mp4"
        enqueue_submission(ReferenceSubmission(url=url, submitted_by="bench"))
    submitted = time.perf_counter() - start

    def all_ready() -> bool:
        with rt.pool.connection() as conn:
            row = conn.execute("SELECT count(*) AS n FROM reference_videos WHERE status = %s",
                               (str(ReferenceStatus.READY),)).fetchone()
        return row["n"] == videos

    worker = Worker(broker, worker_threads=threads, worker_timeout=100)
    start = time.perf_counter()
    worker.start()
    try:
        wait_until(all_ready, timeout_s=1800, interval_s=0.1)
        return submitted, time.perf_counter() - start
    finally:
        worker.stop()
        rt.close()


def run_bare_chain(settings, videos: int, threads: int) -> float:
    """Seconds for a worker to run `videos` chains of MESSAGES_PER_VIDEO no-op messages each
    (the first message of every chain is sent before the worker starts)."""
    from jobs.broker import build_broker

    # The same broker and middleware as `boot` builds, without FlashFlow's actors.
    broker = build_broker(settings.model_copy(update={"broker_namespace": settings.broker_namespace + "-bare"}))
    done_key = f"{settings.broker_namespace}-bare:done"

    @dramatiq.actor(queue_name="bench_bare", max_retries=0, broker=broker)
    def bare_step(left: int) -> None:
        if left > 1:
            bare_step.send(left - 1)
        else:
            broker.client.incr(done_key)

    for _ in range(videos):
        bare_step.send(MESSAGES_PER_VIDEO)
    worker = Worker(broker, worker_threads=threads, worker_timeout=100)
    start = time.perf_counter()
    worker.start()
    try:
        wait_until(lambda: int(broker.client.get(done_key) or 0) == videos, timeout_s=1800, interval_s=0.1)
        return time.perf_counter() - start
    finally:
        worker.stop()
        broker.client.delete(done_key)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as media, scratch_settings(
        toolkit="instant", log_level="WARNING", log_format="text", storage_root=Path(media)
    ) as settings:
        bare = run_bare_chain(settings, args.videos, args.threads)
        submitted, pipeline = run_pipeline(settings, args.videos, args.threads)
    bare_rate, pipe_rate = args.videos / bare, args.videos / pipeline
    print(f"videos={args.videos} messages_per_video={MESSAGES_PER_VIDEO} threads={args.threads}")
    print(f"submitting rows + first messages: {submitted:8.2f} s  {args.videos / submitted:8.1f} rows/s")
    print(f"bare Dramatiq chain            : {bare:8.2f} s  {bare_rate:8.1f} videos/s")
    print(f"Winners Bank (instant stages)  : {pipeline:8.2f} s  {pipe_rate:8.1f} videos/s")
    print(f"ratio pipeline/bare            : {pipe_rate / bare_rate:.2f} (aim >= 0.5)")


if __name__ == "__main__":
    main()
