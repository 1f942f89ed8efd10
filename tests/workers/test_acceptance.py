"""What a person needs, as the README promises: with DATABASE_URL, REDIS_URL and
FLASHFLOW_FETCH_ALLOW_HOSTS=127.0.0.1 set, `flashflow migrate`, `flashflow enqueue URL URL` and a
plain `flashflow worker` take loopback URLs to `ready` — each a real process."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time

import psycopg
import pytest
from psycopg.rows import dict_row

from tests.conftest import FIXTURES, ROOT, _with_dbname, drop_database

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


def _flashflow(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "workers.cli", *args], cwd=ROOT, env=env, text=True,
                          capture_output=True, timeout=120)


def test_migrate_enqueue_worker_take_urls_to_ready(admin_url, redis_url, media_server, tmp_path):
    name = f"ffaccept_{os.getpid()}_{int(time.time())}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    db_url = _with_dbname(admin_url, name)
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLASHFLOW_")}
    env.update(DATABASE_URL=db_url, REDIS_URL=redis_url, FLASHFLOW_FETCH_ALLOW_HOSTS="127.0.0.1",
               FLASHFLOW_HOME=str(tmp_path / "home"), FLASHFLOW_LOG_FORMAT="text")
    for fixture in ("hook_speech_text.mp4", "speech_only.mp4"):
        shutil.copy(FIXTURES / fixture, media_server.root / fixture)
    urls = [media_server.url("files/hook_speech_text.mp4"), media_server.url("files/speech_only.mp4")]
    worker = None
    try:
        migrated = _flashflow(env, "migrate")
        assert migrated.returncode == 0, migrated.stderr
        enqueued = _flashflow(env, "enqueue", *urls)
        assert enqueued.returncode == 0, enqueued.stderr
        lines = [line.split("\t") for line in enqueued.stdout.splitlines()]
        assert [(status, new) for _, status, new, _, _ in lines] == [("queued", "new"), ("queued", "new")]

        worker = subprocess.Popen([sys.executable, "-m", "workers.cli", "worker"], cwd=ROOT, env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 180
        with psycopg.connect(db_url, autocommit=True, row_factory=dict_row) as conn:
            while True:
                rows = conn.execute("SELECT status, error_message FROM reference_videos").fetchall()
                if all(r["status"] in ("ready", "failed") for r in rows) or time.monotonic() > deadline:
                    break
                time.sleep(0.5)
        assert [r["status"] for r in rows] == ["ready", "ready"], rows

        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=60) == 0
    finally:
        if worker is not None and worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
        drop_database(admin_url, db_url)
