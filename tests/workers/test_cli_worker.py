"""`flashflow worker` refuses to start, in one line, when its Whisper model cannot be loaded,
instead of failing every row later; with several processes the supervisor stops too."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.timeout(180)


@pytest.mark.parametrize("processes", ["1", "2"])
def test_a_model_that_cannot_load_stops_the_worker_at_start(db_url: str, redis_url: str, tmp_path: Path,
                                                            processes: str) -> None:
    env = {**os.environ, "DATABASE_URL": db_url, "REDIS_URL": redis_url, "FLASHFLOW_HOME": str(tmp_path / "home"),
           "FLASHFLOW_WHISPER_MODEL": "small", "HF_HOME": str(tmp_path / "hf"), "FLASHFLOW_LOG_FORMAT": "text",
           "FLASHFLOW_LOG_LEVEL": "ERROR"}
    done = subprocess.run([sys.executable, "-m", "workers.cli", "worker", "--processes", processes], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=150)

    assert done.returncode == 2
    refusals = [line for line in done.stderr.splitlines() if "FLASHFLOW_WHISPER_MODEL=small" in line]
    assert refusals and all(line == refusals[0] for line in refusals), done.stderr
    assert refusals[0] == ("flashflow worker: FLASHFLOW_WHISPER_MODEL=small: not in the local Hugging Face cache, and "
                           "models are never downloaded at run time (use base, tiny.en or a CTranslate2 folder)")
    assert "Traceback" not in done.stderr
