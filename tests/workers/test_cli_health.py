"""`flashflow healthcheck`: exit codes for healthy, stale worker, and unreachable Redis."""

from __future__ import annotations

import os
import time

import pytest

from workers.cli import main

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def env(settings, monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("REDIS_URL", settings.redis_url)
    monkeypatch.setenv("FLASHFLOW_HEALTH_FILE", str(tmp_path / "beat"))
    return tmp_path / "beat"


def test_healthy_when_servers_answer_and_the_worker_beats(env, capsys):
    assert main(["healthcheck"]) == 0
    assert main(["healthcheck", "--worker"]) == 1
    assert "no worker heartbeat file" in capsys.readouterr().err
    env.touch()
    assert main(["healthcheck", "--worker"]) == 0
    stale = time.time() - 120
    os.utime(env, (stale, stale))
    assert main(["healthcheck", "--worker", "--max-age", "60"]) == 1
    assert "last heartbeat was 120 s ago (limit 60 s)" in capsys.readouterr().err


def test_unhealthy_when_redis_does_not_answer(env, monkeypatch, capsys):
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    assert main(["healthcheck"]) == 1
    assert "unhealthy: cannot reach Redis at 127.0.0.1:1 (connection refused)" in capsys.readouterr().err
