"""The parent side: a pool of long-lived child processes that run jobs under hard limits.

`ChildPool.run(func, *args, wall_s=...)` hands the job to an idle child (or a new one) and waits
for its answer, checking every POLL_S: past `wall_s`, over the memory cap (resident memory,
FLASHFLOW_STAGE_MAX_MEMORY_MB) or when the caller's `cancel` gives a reason (its lease was taken
over), the child's whole session is killed: the child and whatever it started, ffmpeg included.
Each job gets a private temp folder that is removed after every ending, a kill included (the
parent removes it once the child is reaped). A child is replaced after a kill, after running out
of memory and after FLASHFLOW_STAGE_CHILD_MAX_JOBS jobs. Folders left by a worker that was itself
killed are removed by the next pool started on that machine.
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Protocol

from flashflow_core.adapters.toolkit import Toolkit
from flashflow_core.config import Settings
from flashflow_core.supervised.context import READY, Context, Hello, Job, Outcome, func_path
from flashflow_core.supervised.session import kill_session

log = logging.getLogger(__name__)

POLL_S = 0.05
#: How long a new child may take to start (interpreter, imports) before its first job.
START_S = 120
_MB = 1024 * 1024
#: RLIMIT_DATA of a child, as a multiple of the memory cap. The cap itself is checked on resident
#: memory, which is smaller than the private mappings RLIMIT_DATA counts (reserved thread stacks,
#: allocator arenas); the hard limit only stops what grows faster than POLL_S can see.
DATA_LIMIT_FACTOR = 2
#: Below the system temp folder: one folder per pool (`<pid>-<random>`), one per job inside it.
TEMP_FOLDER = "flashflow-stages"

Cancel = Callable[[], str | None]


class ChildFailure(Exception):
    """The job did not end by itself; `str()` says how it was stopped, in plain words."""


class ChildTimedOut(ChildFailure):
    def __init__(self, wall_s: float) -> None:
        super().__init__(f"did not finish within {wall_s:g} s and was stopped")
        self.wall_s = wall_s


class ChildOutOfMemory(ChildFailure):
    def __init__(self, cap_mb: int, used_mb: float | None = None) -> None:
        if used_mb is not None:
            super().__init__(f"used more than its {cap_mb} MB memory cap ({used_mb:.0f} MB) and was stopped")
        else:  # an allocation failed inside the job (RLIMIT_DATA)
            super().__init__(f"ran out of memory under its {cap_mb} MB memory cap and was stopped")
        self.cap_mb = cap_mb


class ChildDied(ChildFailure):
    """The child process ended without answering (a crash, or a kill from outside)."""


class ChildCancelled(ChildFailure):
    """The caller asked to stop the job (`cancel` gave a reason)."""


class Runner(Protocol):
    """Runs `func(context, *args)` somewhere and returns its value or raises its exception."""

    def start(self, count: int, warm: Callable[..., Any] | None = None, *args: Any) -> None: ...

    def run(self, func: Callable[..., Any], *args: Any, wall_s: float, cancel: Cancel | None = None,
            log_fields: dict[str, Any] | None = None) -> Any: ...

    def close(self) -> None: ...


class InThread:
    """Runs jobs in the calling thread: no limit reaches into C code, no memory cap. For the instant
    stand-in toolkit (its files live in this process's memory) and as the benchmark's baseline."""

    def __init__(self, settings: Settings, tools: Toolkit) -> None:
        self.settings = settings
        self.tools = tools

    def start(self, count: int, warm: Callable[..., Any] | None = None, *args: Any) -> None:
        """Run `warm(context, *args)` once here (loads the models this process will use)."""
        if warm is not None:
            self.run(warm, *args, wall_s=START_S)

    def run(self, func: Callable[..., Any], *args: Any, wall_s: float, cancel: Cancel | None = None,
            log_fields: dict[str, Any] | None = None) -> Any:
        with tempfile.TemporaryDirectory(prefix="ff-stage-") as tmp:
            return func(Context(self.settings, self.tools, Path(tmp)), *args)

    def close(self) -> None:
        """Nothing to stop."""


class _Child:
    """One child process and its socket."""

    def __init__(self, settings: Settings, data_limit_bytes: int) -> None:
        parent_end, child_end = socket.socketpair()
        with child_end:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "flashflow_core.supervised.child", str(child_end.fileno())],
                pass_fds=(child_end.fileno(),), stdin=subprocess.DEVNULL, start_new_session=True,
            )
        self.conn = Connection(parent_end.detach())
        self.conn.send(Hello(settings, os.getpid(), data_limit_bytes))
        self.jobs = 0
        self.rss_mb: float | None = None
        self.killed = False
        started = time.monotonic()
        try:
            ready = self.conn.poll(START_S) and self.conn.recv() == READY
        except (EOFError, OSError):
            ready = False
        if not ready:
            how = self.how_it_ended() if self.proc.poll() is not None else f"did not start within {START_S} s"
            self.kill()
            raise ChildDied(f"the stage's child process {how}")
        log.debug("stage child started", extra={"child_pid": self.proc.pid,
                                                "start_s": round(time.monotonic() - started, 2)})

    @property
    def pid(self) -> int:
        return self.proc.pid

    def resident_mb(self) -> float | None:
        """Resident memory of the child process now (None where /proc cannot say)."""
        try:
            with open(f"/proc/{self.pid}/statm", "rb") as statm:
                pages = int(statm.read().split()[1])
        except (OSError, ValueError, IndexError):
            return None
        self.rss_mb = pages * os.sysconf("SC_PAGE_SIZE") / _MB
        return self.rss_mb

    def how_it_ended(self) -> str:
        """How the child process ended, in words: "was killed by SIGKILL (last seen using 95 MB)"."""
        try:
            code = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            return "stopped answering"
        what = f"was killed by {signal.Signals(-code).name}" if code < 0 else f"exited with code {code}"
        used = f" (last seen using {self.rss_mb:.0f} MB)" if self.rss_mb is not None else ""
        return what + used

    def kill(self) -> None:
        """Kill the child's whole session (what it started too), reap it, close the socket; once."""
        if not self.killed:
            self.killed = True
            kill_session(self.pid)
            self.proc.wait()
            self.conn.close()

    def retire(self) -> None:
        """Let an idle child exit by itself (end of its socket); kill it if it does not."""
        self.conn.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()


class ChildPool:
    """Long-lived children for one worker process: one per concurrently running job."""

    def __init__(self, settings: Settings, temp_base: Path | None = None) -> None:
        self.settings = settings
        self.cap_mb = settings.stage_max_memory_mb
        self.max_jobs = settings.stage_child_max_jobs
        self._idle: list[_Child] = []
        self._lock = threading.Lock()
        self._closed = False
        self._warm: tuple[Callable[..., Any], tuple[Any, ...]] | None = None
        base = temp_base or Path(tempfile.gettempdir()) / TEMP_FOLDER
        base.mkdir(mode=0o700, parents=True, exist_ok=True)
        remove_orphaned_folders(base)
        self.temp_root = base / f"{os.getpid()}-{secrets.token_hex(4)}"
        self.temp_root.mkdir(mode=0o700)

    def start(self, count: int, warm: Callable[..., Any] | None = None, *args: Any) -> None:
        """Start `count` children now (side by side) and run `warm(context, *args)` in each, so the
        first jobs pay neither the start nor loading models; an error in `warm` is raised here."""
        self._warm = (warm, args) if warm is not None else None
        with ThreadPoolExecutor(max_workers=count) as starting:
            for child in starting.map(lambda _: self._new_child(), range(count)):
                self._checkin(child, reusable=True, counted=False)

    def run(self, func: Callable[..., Any], *args: Any, wall_s: float, cancel: Cancel | None = None,
            log_fields: dict[str, Any] | None = None) -> Any:
        """Run `func(context, *args)` in a child; return its value or raise its exception, or a
        ChildFailure when the child had to be stopped."""
        return self._run_on(self._checkout(), func, args, wall_s, cancel, dict(log_fields or {}))

    def _run_on(self, child: _Child, func: Callable[..., Any], args: tuple[Any, ...], wall_s: float,
                cancel: Cancel | None, log_fields: dict[str, Any], keep: bool = True) -> Any:
        """Run the job on `child`; afterwards the child goes back to the idle ones (`keep`) or is
        killed when it cannot be reused."""
        job_path = func_path(func)
        tmp = Path(tempfile.mkdtemp(prefix="job-", dir=self.temp_root))
        outcome: Outcome | None = None
        try:
            try:
                child.conn.send(Job(job_path, args, str(tmp), wall_s, log_fields))
            except OSError:
                raise ChildDied(f"the stage's child process {child.how_it_ended()} before the job started") from None
            outcome = self._wait(child, wall_s, cancel)
        finally:
            reusable = outcome is not None and not outcome.out_of_memory
            if not reusable:
                child.kill()
            shutil.rmtree(tmp, ignore_errors=True)
            if keep:
                self._checkin(child, reusable)
        if outcome.out_of_memory:
            raise ChildOutOfMemory(self.cap_mb) from outcome.error
        if outcome.error is not None:
            raise outcome.error
        return outcome.value

    def _wait(self, child: _Child, wall_s: float, cancel: Cancel | None) -> Outcome:
        deadline = time.monotonic() + wall_s
        while True:
            if child.conn.poll(POLL_S):
                try:
                    return child.conn.recv()
                except (EOFError, OSError):
                    raise ChildDied(f"the stage's child process {child.how_it_ended()}") from None
            if time.monotonic() > deadline:
                raise ChildTimedOut(wall_s)
            reason = cancel() if cancel is not None else None
            if reason:
                raise ChildCancelled(reason)
            used = child.resident_mb()
            if self.cap_mb and used is not None and used > self.cap_mb:
                raise ChildOutOfMemory(self.cap_mb, used)

    def _checkout(self) -> _Child:
        with self._lock:
            if self._closed:
                raise RuntimeError("the stage child pool is closed")
            while self._idle:
                child = self._idle.pop()
                if child.proc.poll() is None:
                    return child
                child.conn.close()
        return self._new_child()

    def _new_child(self) -> _Child:
        """A started child, warmed like those of `start` (its clock is not a job's)."""
        child = _Child(self.settings, self._data_limit())
        if self._warm is not None:
            warm, args = self._warm
            try:
                self._run_on(child, warm, args, START_S, None, {}, keep=False)
            except BaseException:
                child.kill()
                raise
        return child

    def _data_limit(self) -> int:
        return self.cap_mb * DATA_LIMIT_FACTOR * _MB

    def _checkin(self, child: _Child, reusable: bool, counted: bool = True) -> None:
        child.jobs += counted
        if not reusable:
            return
        with self._lock:
            if not self._closed and child.jobs < self.max_jobs:
                self._idle.append(child)
                return
        child.retire()

    def idle_pids(self) -> list[int]:
        """Process ids of the children waiting for a job."""
        with self._lock:
            return [child.pid for child in self._idle]

    def close(self) -> None:
        """Stop the idle children and remove the pool's temp folder. A job still running (its worker
        thread outlived the worker's stop) is killed by its child's watchdog when this process exits."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for child in idle:
            child.retire()
        shutil.rmtree(self.temp_root, ignore_errors=True)


def remove_orphaned_folders(base: Path) -> None:
    """Remove the temp folders of pools whose worker process no longer exists."""
    for folder in base.iterdir():
        pid = folder.name.split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
