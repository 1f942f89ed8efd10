"""A private FLASHFLOW_HOME for tests that start embedded servers, and a sweep that ends them.

The home is made with tempfile.mkdtemp rather than pytest's tmp_path: as root, Postgres runs as
another user that must pass through every folder above its data, and pytest turns its
`pytest-of-<user>` folder back to mode 0700 whenever another pytest session starts.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from flashflow_core.config import Settings
from flashflow_core.embedded.common import terminate
from flashflow_core.embedded.postgres import EmbeddedPostgres
from flashflow_core.embedded.valkey import EmbeddedValkey
from flashflow_core.embedded.services import stop_services

FLASHFLOW = Path(sys.executable).parent / "flashflow"


def embedded_settings(home: Path, **overrides: object) -> Settings:
    """Settings on `home` with both URLs unset, whatever the environment says."""
    return Settings(home=home, database_url=None, redis_url=None, log_format="text", **overrides)


def cli_env(home: Path) -> dict[str, str]:
    """Environment for a `flashflow` subprocess on `home` with no server URLs."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLASHFLOW_")}
    for name in ("DATABASE_URL", "REDIS_URL"):
        env.pop(name, None)
    env.update(FLASHFLOW_HOME=str(home), FLASHFLOW_LOG_FORMAT="text")
    return env


def postmasters(home: Path) -> list[psutil.Process]:
    """Postgres postmasters serving home/postgres (children rename themselves, so only postmasters match)."""
    server = EmbeddedPostgres(home)
    found = []
    for proc in psutil.process_iter(["exe", "cmdline", "status"]):
        if proc.info["status"] == psutil.STATUS_ZOMBIE or not proc.info["exe"]:
            continue
        if Path(proc.info["exe"]) == server.exe and str(server.data_dir) in (proc.info["cmdline"] or []):
            found.append(proc)
    return found


def valkeys(home: Path) -> list[psutil.Process]:
    """valkey-server processes working in home/valkey."""
    server = EmbeddedValkey(home)
    found = []
    for proc in psutil.process_iter(["exe", "status"]):
        if proc.info["status"] == psutil.STATUS_ZOMBIE or not proc.info["exe"]:
            continue
        try:
            if Path(proc.info["exe"]) == server.exe and Path(proc.cwd()) == server.data_dir:
                found.append(proc)
        except psutil.Error:
            continue
    return found


@pytest.fixture(name="home")
def home_fixture() -> Iterator[Path]:
    """An empty FLASHFLOW_HOME; afterwards its servers are stopped, stray ones killed, the folder removed."""
    path = Path(tempfile.mkdtemp(prefix="ff-services-")).resolve()
    try:
        yield path
    finally:
        try:
            stop_services(embedded_settings(path))
        finally:
            for proc in postmasters(path) + valkeys(path):
                terminate(proc.pid, timeout_s=10)
            shutil.rmtree(path, ignore_errors=True)
