"""Real `flashflow worker` processes for end-to-end fault tests: start them with settings in their
environment, kill or pause them as the kernel, an orchestrator or a debugger would, and wait for a
row to reach a state (failing with the workers' logs when it does not)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg.rows import dict_row

from flashflow_core.config import Settings
from tests.conftest import ROOT


class Workers:
    """Starts `flashflow worker` processes (each in a session of its own) and stops them."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env = env
        self.logs = logs
        self.procs: list[subprocess.Popen] = []

    def start(self, *args: str, threads: int = 1, wrap: tuple[str, ...] = (), **env: str) -> subprocess.Popen:
        """A worker on every queue (or `--queues ...` in args) with extra FLASHFLOW_* settings;
        `wrap` is a command line the worker's own is appended to (a namespace to run it in)."""
        log = open(self.logs / f"worker-{len(self.procs)}.log", "wb")  # noqa: SIM115 - closed by the process
        command = [sys.executable, "-m", "workers.cli", "worker", "--threads", str(threads), *args]
        proc = subprocess.Popen([*wrap, *command],
                                cwd=ROOT, env={**self.env, **env}, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        log.close()
        self.procs.append(proc)
        return proc

    def kill(self, proc: subprocess.Popen) -> float:
        """SIGKILL the worker and everything in its process group, as an OOM kill would; when it happened."""
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        return time.monotonic()

    def stage_children(self, proc: subprocess.Popen) -> list[int]:
        """The worker's stage child processes (flashflow_core.supervised)."""
        return [pid for pid in children_of(proc.pid) if b"flashflow_core.supervised.child" in _cmdline(pid)]

    def freeze(self, proc: subprocess.Popen) -> list[int]:
        """SIGSTOP the worker and its stage children, as `docker pause` or a paused VM would; the pids."""
        pids = [proc.pid, *self.stage_children(proc)]
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
        return pids

    @staticmethod
    def thaw(pids: list[int]) -> None:
        for pid in pids:
            os.kill(pid, signal.SIGCONT)

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGCONT)
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

    def log_of(self, proc: subprocess.Popen) -> str:
        """What one worker wrote so far."""
        return (self.logs / f"worker-{self.procs.index(proc)}.log").read_text(errors="replace")

    def log_text(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.logs.glob("worker-*.log")))

    def tail(self) -> str:
        return "\n".join(f"--- {p.name}\n" + p.read_text(errors="replace")[-3000:]
                         for p in sorted(self.logs.glob("worker-*.log")))


def children_of(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def worker_env(settings: Settings, tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a worker on the test's servers and storage, plus FLASHFLOW_* `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLASHFLOW_")}
    env.update({
        "DATABASE_URL": settings.database_url or "", "REDIS_URL": settings.redis_url or "",
        "FLASHFLOW_HOME": str(tmp_path / "home"), "FLASHFLOW_STORAGE_ROOT": str(settings.media_root),
        "FLASHFLOW_FETCH_ALLOW_HOSTS": "127.0.0.1", "FLASHFLOW_LOG_FORMAT": "json",
        "FLASHFLOW_BROKER_MAINTENANCE_INTERVAL_S": "1",
    })
    env.update(extra)
    return env


@pytest.fixture
def workers(settings: Settings, tmp_path: Path) -> Iterator[Callable[..., Workers]]:
    """`workers(**FLASHFLOW settings)` makes a group of worker processes, stopped after the test."""
    made: list[Workers] = []

    def make(**extra: str) -> Workers:
        made.append(Workers(worker_env(settings, tmp_path, **extra), tmp_path))
        return made[-1]

    yield make
    for group in made:
        group.stop_all()


def insert_reference(db_url: str, url: str) -> str:
    """A row inserted the way the web app's admin page adds one: a plain INSERT, no message."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        return str(conn.execute("INSERT INTO reference_videos (url, submitted_by) VALUES (%s, 'admin-page') "
                                "RETURNING id", (url,)).fetchone()[0])


def wait_row(db_url: str, reference_id: str, ready: Callable[[dict], bool], timeout_s: float,
             workers: Workers) -> dict:
    """Poll the row until `ready(row)`; fail with its state and the workers' logs after timeout_s."""
    deadline = time.monotonic() + timeout_s
    with psycopg.connect(db_url, autocommit=True, row_factory=dict_row) as conn:
        while True:
            row = conn.execute("SELECT * FROM reference_videos WHERE id = %s", (reference_id,)).fetchone()
            if ready(row):
                return row
            if time.monotonic() > deadline:
                pytest.fail(f"row stayed {row['status']} (crashes {row['crash_count']}, error "
                            f"{row['error_message']!r}, last error {row['last_error']!r})\n{workers.tail()}")
            time.sleep(0.05)
