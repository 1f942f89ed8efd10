"""The worker process: Dramatiq workers on the Redis broker, supervised.

`run_worker` runs one worker in this process until SIGTERM/SIGINT. With several processes,
`supervise` starts that many children and restarts any that dies (an OOM kill, a crash), so
one lost process never takes its siblings down with it.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence

from dramatiq import Worker

from flashflow_core.config import ConfigError, Settings
from flashflow_core.supervised import ChildFailure, ChildOutOfMemory
from flashflow_core.winners.stage_work import warm
from flashflow_core.winners.states import Stage
from jobs import runtime
from jobs.boot import boot
from workers.background import WorkerBackground
from workers.exit_codes import ExitCode

log = logging.getLogger(__name__)

ALL_QUEUES = ("default", "fetch", "transcribe", "extract")


def start_worker(settings: Settings, queues: Sequence[str] | None = None, threads: int | None = None) -> Worker:
    """Boot broker, actors and runtime, then start a Dramatiq worker (returns it running).

    Emits `process_boot` as Dramatiq's own CLI does: its TimeLimit middleware starts the
    watcher that enforces each actor's time limit only on that signal."""
    broker = boot(settings).broker
    stages = [str(stage) for stage in Stage if queues is None or str(stage) in queues]
    if stages:
        # One stage child per thread, started now with the models loaded: the first rows pay for
        # neither, and a model that cannot be loaded stops the worker here (ConfigError, one
        # line), not each row later.
        try:
            runtime.current().stage_runner.start(threads or settings.worker_threads, warm, stages)
        except ChildFailure as exc:
            cap = " (FLASHFLOW_STAGE_MAX_MEMORY_MB)" if isinstance(exc, ChildOutOfMemory) else ""
            raise ConfigError(f"a stage child process could not get ready: it {exc}{cap}") from exc
    broker.add_middleware(WorkerBackground(settings, set(queues) if queues else None))
    worker = Worker(broker, queues=set(queues) if queues else None,
                    worker_threads=threads or settings.worker_threads, worker_timeout=1000)
    worker.start()
    broker.emit_after("process_boot")
    return worker


def run_worker(settings: Settings, queues: Sequence[str] | None = None, threads: int | None = None) -> int:
    """Run one worker in this process until SIGTERM or SIGINT; return the exit code."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    worker = start_worker(settings, queues, threads)
    log.info("worker started", extra={"queues": sorted(queues or ALL_QUEUES), "pid": os.getpid(),
                                      "threads": threads or settings.worker_threads})
    try:
        stop.wait()
    finally:
        log.info("worker stopping", extra={"pid": os.getpid()})
        worker.stop(timeout=30_000)
        runtime.current().close()
    return ExitCode.OK


def supervise(argv: Sequence[str], processes: int, env: dict[str, str] | None = None,
              restart_delay_s: float = 1.0) -> int:
    """Run `processes` copies of a single-process worker command; restart any that exits unasked."""
    stopping = threading.Event()
    children: dict[int, subprocess.Popen] = {}

    def spawn(slot: int) -> None:
        child_env = dict(env if env is not None else os.environ)
        if int(child_env.get("FLASHFLOW_METRICS_PORT") or 0):  # one endpoint per process: port + slot
            child_env["FLASHFLOW_METRICS_PORT"] = str(int(child_env["FLASHFLOW_METRICS_PORT"]) + slot)
        children[slot] = subprocess.Popen([sys.executable, "-m", "workers.cli", *argv], env=child_env)
        log.info("worker process started", extra={"slot": slot, "pid": children[slot].pid})

    def forward(signum: int, _frame: object) -> None:
        stopping.set()
        for child in children.values():
            if child.poll() is None:
                child.send_signal(signum)

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, forward)
    for slot in range(processes):
        spawn(slot)
    result = ExitCode.OK
    while not stopping.is_set():
        for slot, child in list(children.items()):
            code = child.poll()
            if code == ExitCode.USAGE and not stopping.is_set():
                # Bad settings (a model that cannot load...) fail every restart the same way: stop.
                log.error("worker process refused its configuration; stopping", extra={"slot": slot, "code": code})
                forward(signal.SIGTERM, None)
                result = code
            elif code is not None and not stopping.is_set():
                log.error("worker process exited; restarting", extra={"slot": slot, "pid": child.pid, "code": code})
                time.sleep(restart_delay_s)
                spawn(slot)
        stopping.wait(0.5)
    for child in children.values():
        try:
            child.wait(timeout=60)
        except subprocess.TimeoutExpired:
            child.kill()
    return result
