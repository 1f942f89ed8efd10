"""What running stages in supervised child processes costs per video, against running them in the
worker's own thread (as before), in the same run, on the fixture videos with the real toolkit.

    .venv/bin/python -m bench.bench_stage_isolation [--rounds 5]

Both modes use the same Pipeline (claim, lease renewal, finishing statement) and differ only in
where the stage work runs: `InThread`, or a `ChildPool` child (work and results pickled over a
socket, private temp folder, memory and time checks every 50 ms). Each mode is warmed first (models
loaded: in this process for in-thread, in the child for the pool), then the rounds alternate the
two modes video by video, so drift on a shared machine hits both alike. Also measured once: a
child's start (interpreter and imports) and its first video (models loaded), which a worker pays
per thread at start and again each FLASHFLOW_STAGE_CHILD_MAX_JOBS videos, and the resident
memory of this process and of the child.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from bench.common import scratch_settings, time_stages
from flashflow_core.adapters.toolkit import Toolkit
from flashflow_core.db.pool import make_pool
from flashflow_core.supervised import ChildPool, InThread
from flashflow_core.winners.pipeline import Pipeline
from flashflow_core.winners.stage_work import warm
from flashflow_core.winners.states import Stage
from flashflow_core.winners.submit import ReferenceSubmission, submit_reference
from workers.demo import serve_folder

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures"
VIDEOS = ["hook_speech_text.mp4", "speech_only.mp4", "silent_text.mp4"]
MODES = ("in-thread", "child process")


def run_video(pipeline: Pipeline, pool, url: str) -> dict[str, float]:
    """Seconds per stage for one new row taken to ready."""
    rid = submit_reference(pool, ReferenceSubmission(url=url, submitted_by="bench")).id
    took, last = time_stages(pipeline, rid)
    if last.outcome != "advanced":
        raise SystemExit(f"{url}: {last.stage} {last.outcome}: {last.detail}")
    return took


def noop(ctx, row: dict) -> dict:
    """A stage that does nothing: what is left is the cost of handing the job over and back."""
    return row


def round_trip_ms(runner, row: dict, count: int = 300) -> float:
    start = time.perf_counter()
    for _ in range(count):
        runner.run(noop, row, wall_s=30)
    return (time.perf_counter() - start) / count * 1000


def resident_mb(pid: int | str = "self") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as media, scratch_settings(
        storage_root=Path(media), fetch_allow_hosts=["127.0.0.1"], log_level="WARNING", worker_threads=1,
        stage_child_max_jobs=100_000,  # no replacement inside the timed rounds; its cost is measured apart
    ) as settings, make_pool(settings) as pool, serve_folder(FIXTURES) as base:
        tools = Toolkit(settings)
        children = ChildPool(settings)
        pipelines = {"in-thread": Pipeline(pool, settings, tools, runner=InThread(settings, tools)),
                     "child process": Pipeline(pool, settings, tools, runner=children)}
        try:
            start = time.perf_counter()
            children.start(1)
            child_start = time.perf_counter() - start
            first = run_video(pipelines["child process"], pool, f"{base}/{VIDEOS[0]}?cold")
            (child_pid,) = children.idle_pids()
            InThread(settings, tools).start(1, warm, [str(s) for s in Stage])
            run_video(pipelines["in-thread"], pool, f"{base}/{VIDEOS[0]}?warm")
            times: dict[str, list[dict[str, float]]] = {mode: [] for mode in MODES}
            for round_ in range(args.rounds):
                for name in VIDEOS:
                    order = MODES if round_ % 2 == 0 else tuple(reversed(MODES))
                    for mode in order:
                        times[mode].append(run_video(pipelines[mode], pool, f"{base}/{name}?{mode[0]}{round_}"))
            memory = {"in-thread": resident_mb(), "child process": resident_mb(child_pid)}
            with pool.connection() as conn:
                row = conn.execute("SELECT * FROM reference_videos LIMIT 1").fetchone()
            trips = {"in-thread": round_trip_ms(InThread(settings, tools), row),
                     "child process": round_trip_ms(children, row)}
        finally:
            children.close()
    report(times, args.rounds, child_start, first, memory, trips)


def report(times: dict[str, list[dict[str, float]]], rounds: int, child_start: float, first: dict[str, float],
           memory: dict[str, float], trips: dict[str, float]) -> None:
    per_video = {mode: [sum(t.values()) for t in runs] for mode, runs in times.items()}
    base = statistics.median(per_video["in-thread"])
    print(f"videos per mode: {len(per_video['in-thread'])} ({rounds} rounds of {', '.join(VIDEOS)})")
    print("| mode | median s/video | mean s/video | fetch | transcribe | extract | median / in-thread |")
    print("|---|---|---|---|---|---|---|")
    for mode in MODES:
        stages = [statistics.median(t[str(s)] for t in times[mode]) for s in Stage]
        median = statistics.median(per_video[mode])
        print(f"| {mode} | {median:.3f} | {statistics.mean(per_video[mode]):.3f} | "
              + " | ".join(f"{s:.3f}" for s in stages) + f" | {median / base:.3f}x |")
    extra = statistics.median(per_video["child process"]) - base
    print(f"isolation costs {extra * 1000:+.0f} ms per video (median), "
          f"{extra / 3 * 1000:+.0f} ms per stage")
    print(f"a stage that does nothing (hand-over and back, a claimed row as argument): "
          f"in-thread {trips['in-thread']:.2f} ms, child process {trips['child process']:.2f} ms")
    once = child_start + sum(first.values()) - statistics.median(per_video["child process"])
    print(f"once per child: start {child_start:.2f} s; first video {sum(first.values()):.2f} s "
          f"(models loaded: " + ", ".join(f"{k} {v:.2f} s" for k, v in first.items()) + ")")
    print(f"a child's replacement (every FLASHFLOW_STAGE_CHILD_MAX_JOBS = 1000 stages, ~333 videos) costs "
          f"{once:.1f} s once: {once / 333 * 1000:.0f} ms per video spread out")
    print(f"resident memory after the run: worker process {memory['in-thread']:.0f} MB "
          f"(in-thread models loaded), child {memory['child process']:.0f} MB")


if __name__ == "__main__":
    main()
