"""Orchestration cost of the Winners Bank: N reference videos through every state with instant
stand-in stages, against a bare chain of Dramatiq no-op actors sending the same number of
messages, in the same run, on the same broker and worker settings.

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
from flashflow_core.winners.submit import ReferenceSubmission

MESSAGES_PER_VIDEO = 3  # fetch, transcribe, extract


def run_pipeline(settings, videos: int, threads: int) -> float:
    """Seconds from the first submission until every row is ready."""
    from jobs import runtime
    from jobs.broker import setup_broker
    from jobs.registry import load_actors
    from jobs.winners import enqueue_submission

    broker = setup_broker(settings)
    load_actors()
    rt = runtime.configure(settings)
    worker = Worker(broker, worker_threads=threads, worker_timeout=100)
    worker.start()
    try:
        start = time.perf_counter()
        for i in range(videos):
            enqueue_submission(ReferenceSubmission(url=f"https://bench.example/v/{i}.mp4", submitted_by="bench"))

        def all_ready() -> bool:
            with rt.pool.connection() as conn:
                (n,) = conn.execute("SELECT count(*) FROM reference_videos WHERE status = 'ready'").fetchone().values()
            return n == videos

        wait_until(all_ready, timeout_s=1800, interval_s=0.2)
        return time.perf_counter() - start
    finally:
        worker.stop()
        rt.close()


def run_bare_chain(settings, videos: int, threads: int) -> float:
    """Seconds for `videos` chains of MESSAGES_PER_VIDEO no-op messages each."""
    from jobs.broker import setup_broker

    broker = setup_broker(settings.model_copy(update={"broker_namespace": settings.broker_namespace + "-bare"}))
    done_key = f"{settings.broker_namespace}-bare:done"

    @dramatiq.actor(queue_name="bench_bare", max_retries=0, broker=broker)
    def bare_step(left: int) -> None:
        if left > 1:
            bare_step.send(left - 1)
        else:
            broker.client.incr(done_key)

    worker = Worker(broker, worker_threads=threads, worker_timeout=100)
    worker.start()
    try:
        start = time.perf_counter()
        for _ in range(videos):
            bare_step.send(MESSAGES_PER_VIDEO)
        wait_until(lambda: int(broker.client.get(done_key) or 0) == videos, timeout_s=1800, interval_s=0.2)
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
        pipeline = run_pipeline(settings, args.videos, args.threads)
    bare_rate, pipe_rate = args.videos / bare, args.videos / pipeline
    print(f"videos={args.videos} messages_per_video={MESSAGES_PER_VIDEO} threads={args.threads}")
    print(f"bare Dramatiq chain : {bare:8.2f} s  {bare_rate:8.1f} videos/s")
    print(f"Winners Bank (instant stages): {pipeline:8.2f} s  {pipe_rate:8.1f} videos/s")
    print(f"ratio pipeline/bare : {pipe_rate / bare_rate:.2f} (aim >= 0.5)")


if __name__ == "__main__":
    main()
