"""The producer examples work as docs/producers.md says: redis-cli and Node push a message that a
real worker runs."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import time

import pytest
from dramatiq import Worker
from rich.console import Console

from tests.conftest import ROOT
from workers.cli import main

pytestmark = pytest.mark.timeout(300)
SCRIPT = ROOT / "examples" / "redis-cli" / "enqueue_reference.sh"


def run_default_queue_until(broker, conn, url: str, timeout_s: float = 30, until=lambda: True) -> dict:
    """Run the `default` queue until the URL's row exists and `until()` holds; the row."""
    worker = Worker(broker, queues={"default"}, worker_threads=1, worker_timeout=100)
    worker.start()
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            row = conn.execute("SELECT * FROM reference_videos WHERE url = %s", (url,)).fetchone()
            if row is not None and until():
                return row
            assert time.monotonic() < deadline, "the job did not run"
            time.sleep(0.1)
    finally:
        worker.stop()


def test_the_doc_shows_the_redis_cli_script_verbatim():
    doc = (ROOT / "docs" / "producers.md").read_text(encoding="utf-8")
    assert f"```sh\n{SCRIPT.read_text(encoding='utf-8')}```" in doc


@pytest.mark.skipif(shutil.which("redis-cli") is None, reason="redis-cli is not installed")
def test_redis_cli_example_enqueues_a_job_that_runs(broker, conn, settings, monkeypatch):
    url = "https://www.tiktok.com/@shop/video/7400000000000000001"
    done = subprocess.run([str(SCRIPT), url, "producer-sh"], env={**os.environ, "REDIS_URL": settings.redis_url},
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    message_id = done.stdout.strip().splitlines()[-1]
    row = run_default_queue_until(broker, conn, url)
    assert row["submitted_by"] == "producer-sh" and row["status"] == "queued"
    assert broker.client.zcard("dramatiq:default.XQ") == 0
    assert len(message_id) == 36

    # The id the script printed finds the row, as the doc says.
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("REDIS_URL", settings.redis_url)
    out = io.StringIO()
    assert main(["show", message_id], console=Console(file=out)) == 0
    assert f"field\tid\t{row['id']}\n" in out.getvalue()
    assert f"\treference.submitted\t\tproducer-sh\t{message_id}\t" in out.getvalue()

    # Another producer submits the same URL: its message id finds the row too, and the timeline
    # shows the resubmission.
    again = subprocess.run([str(SCRIPT), url, "producer-two"], env={**os.environ, "REDIS_URL": settings.redis_url},
                           capture_output=True, text=True, timeout=30)
    assert again.returncode == 0, again.stderr
    second_id = again.stdout.strip().splitlines()[-1]
    run_default_queue_until(broker, conn, url, until=lambda: conn.execute(
        "SELECT 1 FROM audit_log WHERE message_id = %s", (second_id,)).fetchone() is not None)
    out = io.StringIO()
    assert main(["show", second_id], console=Console(file=out)) == 0
    assert f"field\tid\t{row['id']}\n" in out.getvalue()
    assert (f"\treference.resubmitted\t\tproducer-two\t{second_id}\tsubmitted again while queued: {url}\n"
            in out.getvalue())
    assert broker.client.zcard("dramatiq:default.XQ") == 0


@pytest.fixture(scope="module")
def node_example(tmp_path_factory):
    """examples/node with the `redis` package installed from the npm registry, and schemas/ beside it."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are not installed")
    root = tmp_path_factory.mktemp("node-producer")
    shutil.copytree(ROOT / "examples" / "node", root / "examples" / "node")
    shutil.copytree(ROOT / "schemas", root / "schemas")
    install = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"],
                             cwd=root / "examples" / "node", capture_output=True, text=True, timeout=240)
    if install.returncode != 0:
        pytest.skip(f"npm could not install the redis package (no registry?): {install.stderr[-500:]}")
    return root / "examples" / "node" / "enqueue.mjs"


def test_node_example_enqueues_a_job_that_runs(node_example, broker, conn, redis_url):
    url = "https://www.tiktok.com/@shop/video/7400000000000000002"
    done = subprocess.run(["node", str(node_example), "enqueue_reference",
                           f'{{"url": "{url}", "submitted_by": "producer-node", "category": "skincare"}}'],
                          env={**os.environ, "REDIS_URL": redis_url}, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    row = run_default_queue_until(broker, conn, url)
    assert (row["submitted_by"], row["category"]) == ("producer-node", "skincare")
    assert broker.client.zcard("dramatiq:default.XQ") == 0
