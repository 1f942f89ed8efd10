"""The child side: `python -m flashflow_core.supervised.child FD`, started by `ChildPool`.

It reads a `Hello` (settings, memory limit) and then jobs, one at a time, from the socket FD, and
answers each with an `Outcome`. The parent enforces the wall-clock limit and the memory cap by
killing this process's session; the child adds what only it can do:
- RLIMIT_DATA, inherited by what it starts (ffmpeg), so an allocation far past the cap fails at
  once instead of taking the machine's memory between two of the parent's checks;
- each job's temp folder as TMPDIR and `tempfile.tempdir`, so whatever a library writes goes
  into the folder the parent removes after the job;
- a watchdog thread that kills the whole session when the parent is gone (SIGKILL, crash) or a
  job runs well past its limit (the parent is stopped or stuck), so nothing outlives its worker.
"""

from __future__ import annotations

import logging
import os
import pickle
import resource
import signal
import sys
import tempfile
import threading
import time
import traceback
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from flashflow_core.adapters.toolkit import Toolkit
from flashflow_core.logs import setup_logging
from flashflow_core.supervised.context import READY, Context, Hello, Job, Outcome, resolve
from flashflow_core.supervised.session import kill_session

log = logging.getLogger(__name__)

#: How far past its limit a job may run before the child stops itself (the parent should have).
OVERRUN_GRACE_S = 10.0
WATCH_INTERVAL_S = 0.5


class _Watchdog(threading.Thread):
    """Kills this process's session when the parent dies or a job overruns its limit."""

    def __init__(self, parent_pid: int) -> None:
        super().__init__(name="flashflow-child-watchdog", daemon=True)
        self.parent_pid = parent_pid
        self.deadline: float | None = None

    def run(self) -> None:
        while True:
            time.sleep(WATCH_INTERVAL_S)
            orphaned = os.getppid() != self.parent_pid
            overran = self.deadline is not None and time.monotonic() > self.deadline
            if orphaned or overran:
                log.error("stage child stopping itself", extra={
                    "reason": "its worker is gone" if orphaned else "its job overran and its worker did not stop it"})
                kill_session(os.getsid(0))


class _JobFields(logging.Filter):
    """Adds the job's log fields (the worker's message context) to each record."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, Any] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in self.fields.items():
            record.__dict__.setdefault(key, value)
        return True


def _memory_ran_out(exc: BaseException) -> bool:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and not any(current is s for s in seen):
        if isinstance(current, MemoryError):
            return True
        seen.append(current)
        current = current.__cause__ or current.__context__
    return False


def _sendable(exc: BaseException) -> BaseException:
    """`exc` when it survives pickling, else a RuntimeError with its type and message."""
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")


def run_job(job: Job, settings: Any, tools: Toolkit) -> Outcome:
    """Call the job's function with its context, the job's folder as the temp folder."""
    tmp = Path(job.tmp)
    os.environ["TMPDIR"] = job.tmp
    tempfile.tempdir = job.tmp
    try:
        value = resolve(job.func)(Context(settings, tools, tmp), *job.args)
        return Outcome(value=value)
    except BaseException as exc:  # everything goes back to the parent, which decides
        return Outcome(error=_sendable(exc), trace=traceback.format_exc(limit=8), out_of_memory=_memory_ran_out(exc))
    finally:
        tempfile.tempdir = None
        os.environ.pop("TMPDIR", None)


def main(argv: list[str]) -> int:
    conn = Connection(int(argv[0]))
    hello: Hello = conn.recv()
    if hello.data_limit_bytes:
        resource.setrlimit(resource.RLIMIT_DATA, (hello.data_limit_bytes, hello.data_limit_bytes))
    settings = hello.settings
    setup_logging(settings.log_level, settings.log_format)
    fields = _JobFields()
    for handler in logging.getLogger().handlers:
        handler.addFilter(fields)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the worker decides when its children stop
    watchdog = _Watchdog(hello.parent_pid)
    watchdog.start()
    tools = Toolkit(settings)
    # Import the downloader's and decoders' libraries now, before the first job's clock starts.
    tools.downloader, tools.media, tools.storage  # noqa: B018 - built for their imports
    conn.send(READY)
    while True:
        try:
            job: Job = conn.recv()
        except (EOFError, OSError):
            return 0
        fields.fields = dict(job.log_fields)
        watchdog.deadline = time.monotonic() + job.wall_s + OVERRUN_GRACE_S
        outcome = run_job(job, settings, tools)
        watchdog.deadline = None
        try:
            conn.send(outcome)
        except (BrokenPipeError, ConnectionResetError):
            return 0
        except Exception as exc:  # the value did not pickle
            conn.send(Outcome(error=RuntimeError(f"the job's result could not be sent back: {exc}")))
        if outcome.out_of_memory:
            return 0  # a heap that hit its limit is not reused


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
