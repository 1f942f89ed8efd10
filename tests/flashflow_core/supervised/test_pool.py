"""Supervised child processes: jobs run in long-lived children, and a child that runs over its wall-clock
limit or its memory cap, or whose caller gives up, is killed with everything it started, leaving no
temp files. Real processes, real signals; limits of a second or two."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from flashflow_core.adapters.base import PermanentError, SiteThrottled
from flashflow_core.config import Settings
from flashflow_core.supervised import (
    ChildCancelled,
    ChildOutOfMemory,
    ChildPool,
    ChildTimedOut,
)
from tests.conftest import ROOT
from tests.flashflow_core.supervised import jobs

pytestmark = pytest.mark.timeout(60)


def _settings(**overrides: object) -> Settings:
    return Settings(log_format="text", **overrides)


@pytest.fixture
def temp_base(tmp_path: Path) -> Path:
    return tmp_path / "stages"


@pytest.fixture
def pool(temp_base: Path) -> Iterator[ChildPool]:
    the_pool = ChildPool(_settings(stage_max_memory_mb=400, stage_child_max_jobs=3), temp_base=temp_base)
    yield the_pool
    the_pool.close()


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _wait_for(path: Path, timeout_s: float = 20) -> str:
    deadline = time.monotonic() + timeout_s
    while not (path.exists() and path.read_text().strip()):
        assert time.monotonic() < deadline, f"{path} was never written"
        time.sleep(0.02)
    return path.read_text()


def _gone(pid: int, timeout_s: float = 5) -> bool:
    deadline = time.monotonic() + timeout_s
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    return not _alive(pid)


def test_jobs_run_in_a_reused_child_with_a_private_temp_folder(pool: ChildPool) -> None:
    first = pool.run(jobs.where, {"a": 1}, wall_s=30)
    second = pool.run(jobs.where, "again", wall_s=30)
    third = pool.run(jobs.where, None, wall_s=30)
    fourth = pool.run(jobs.where, None, wall_s=30)  # the child was replaced after 3 jobs
    assert first["value"] == {"a": 1} and second["value"] == "again"
    assert first["pid"] != os.getpid()
    assert first["pid"] == second["pid"] == third["pid"] != fourth["pid"]
    assert first["tmp"] != second["tmp"]
    assert first["tempdir"] == first["tmpdir_env"] == first["tmp"]  # libraries' temp files land there too
    assert Path(first["tmp"]).parent == pool.temp_root
    assert list(pool.temp_root.iterdir()) == [], "a job's folder outlived the job"
    assert _gone(first["pid"]), "the retired child did not exit"


def test_errors_come_back_as_the_same_exceptions(pool: ChildPool) -> None:
    with pytest.raises(PermanentError, match="^the video was removed$"):
        pool.run(jobs.fail_permanently, "the video was removed", wall_s=30)
    with pytest.raises(SiteThrottled) as caught:
        pool.run(jobs.throttled, wall_s=30)
    assert (caught.value.site, caught.value.retry_after_s) == ("example.com", 42.0)


def test_a_job_past_its_limit_is_killed_with_its_subprocesses_and_leaves_no_files(
    pool: ChildPool, tmp_path: Path
) -> None:
    started = tmp_path / "started"
    # Start the child first: on a loaded machine its interpreter's start alone can take longer than
    # the limit, and the job would be stopped before it wrote anything this test looks for.
    warm_pid = pool.run(jobs.where, None, wall_s=30)["pid"]
    began = time.monotonic()
    with pytest.raises(ChildTimedOut, match="did not finish within 2 s and was stopped"):
        pool.run(jobs.write_then_hang, str(started), wall_s=2)
    took = time.monotonic() - began
    child_pid, stray = _wait_for(started).split()
    shell, sleeper = (int(p) for p in _wait_for(Path(f"{started}.sub")).split())
    assert int(child_pid) == warm_pid
    assert 2 <= took < 6
    assert _gone(int(child_pid)) and _gone(shell) and _gone(sleeper), "something the job started survived"
    assert not Path(stray).exists() and list(pool.temp_root.iterdir()) == []
    assert pool.run(jobs.where, 1, wall_s=30)["pid"] != int(child_pid)  # a fresh child took over


def test_a_job_that_allocates_without_bound_is_stopped_at_the_memory_cap(pool: ChildPool) -> None:
    began = time.monotonic()
    with pytest.raises(ChildOutOfMemory, match=r"used more than its 400 MB memory cap \(\d+ MB\) and was stopped"):
        pool.run(jobs.allocate_without_bound, wall_s=30)
    assert time.monotonic() - began < 15


def test_memory_errors_inside_the_job_count_as_the_cap(pool: ChildPool) -> None:
    with pytest.raises(ChildOutOfMemory) as caught:
        pool.run(jobs.run_out_of_memory, wall_s=30)
    assert isinstance(caught.value.__cause__, MemoryError)


def test_a_job_whose_caller_gives_up_is_stopped(pool: ChildPool, tmp_path: Path) -> None:
    started = tmp_path / "started"
    with pytest.raises(ChildCancelled, match="^the lease was taken over$"):
        pool.run(jobs.write_then_hang, str(started), wall_s=30,
                 cancel=lambda: "the lease was taken over" if started.exists() else None)
    assert _gone(int(_wait_for(started).split()[0]))


_ORPHANING_PARENT = """
import sys
from pathlib import Path
from flashflow_core.config import Settings
from flashflow_core.supervised import ChildPool
from tests.flashflow_core.supervised import jobs
pool = ChildPool(Settings(log_format="text"), temp_base=Path(sys.argv[1]))
pool.run(jobs.write_then_hang, sys.argv[2], wall_s=600)
"""


def test_children_of_a_killed_worker_stop_and_their_folders_are_removed_later(temp_base: Path,
                                                                                  tmp_path: Path) -> None:
    started = tmp_path / "started"
    parent = subprocess.Popen([sys.executable, "-c", _ORPHANING_PARENT, str(temp_base), str(started)], cwd=ROOT)
    child_pid = int(_wait_for(started).split()[0])
    sleeper = int(_wait_for(Path(f"{started}.sub")).split()[1])
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    assert _gone(child_pid) and _gone(sleeper), "the child outlived its worker"
    assert [p.name.split("-")[0] for p in temp_base.iterdir()] == [str(parent.pid)]
    ChildPool(_settings(), temp_base=temp_base).close()  # the next pool on this machine cleans up
    assert list(temp_base.iterdir()) == []


def test_started_children_are_warmed_and_so_are_their_replacements(temp_base: Path, tmp_path: Path) -> None:
    marks = tmp_path / "warmed"
    marks.mkdir()
    pool = ChildPool(_settings(stage_child_max_jobs=2), temp_base=temp_base)
    try:
        pool.start(2, jobs.mark_warm, str(marks))
        assert len(list(marks.iterdir())) == 2
        assert len(pool.idle_pids()) == 2
        pids = [pool.run(jobs.where, None, wall_s=30)["pid"] for _ in range(5)]
        # Two jobs each for the two started children, then a replacement, warmed before its job.
        assert len(set(pids)) == 3
        assert set(pids) == {int(p.name) for p in marks.iterdir()}
    finally:
        pool.close()
