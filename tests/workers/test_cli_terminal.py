"""What `flashflow` prints for a person at a real terminal (a pseudo-terminal) against what it
prints into a pipe: tables against tab-separated full values, text logs against JSON logs, a
question before deleting against a refusal without --yes."""

from __future__ import annotations

import json
import os
import time
import uuid

import psycopg
import pytest

from tests.conftest import drop_database
from tests.terminal import run_flashflow

pytestmark = pytest.mark.timeout(180)
LONG_ERROR = "the server answered 403 Forbidden: access is refused " + "(the video is private, or the site blocks us) " * 4


@pytest.fixture
def env(settings) -> dict[str, str]:
    """The environment of a `flashflow` process on the test's servers, with no log format chosen."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("FLASHFLOW_")}
    return {**base, "DATABASE_URL": settings.database_url, "REDIS_URL": settings.redis_url,
            "FLASHFLOW_HOME": str(settings.home), "FLASHFLOW_FETCH_ALLOW_HOSTS": "127.0.0.1"}


def test_status_is_a_table_on_a_terminal_and_full_values_in_a_pipe(env, conn):
    row = conn.execute("INSERT INTO reference_videos (url, submitted_by, status, failed_stage, error_message) "
                       "VALUES ('https://www.tiktok.com/@shop/video/7400000000000000009', 'test', 'failed', 'fetch', %s) "
                       "RETURNING id", (LONG_ERROR,)).fetchone()
    failed_id = str(row["id"])

    shown = run_flashflow("status", env=env, columns=100)
    assert shown.code == 0, shown.stderr
    assert "┃ status" in shown.stdout and "Latest failures" in shown.stdout
    assert "…" not in shown.stdout and failed_id in shown.stdout  # ids whole; long text folds, never cut
    assert max(len(line) for line in shown.stdout.splitlines()) <= 100
    words = " ".join(line.strip() for line in shown.stdout.split("Latest failures")[1].splitlines())
    assert all(word in words for word in LONG_ERROR.split())

    piped = run_flashflow("status", env=env, tty=())
    assert piped.code == 0
    lines = [line.split("\t") for line in piped.stdout.splitlines()]
    assert ["count", "failed", "1"] in lines and ["count", "queued", "0"] in lines
    [failure] = [fields for fields in lines if fields[0] == "failure"]
    assert failure[1:3] == [failed_id, "fetch"] and failure[4] == LONG_ERROR
    assert failure[5] == "https://www.tiktok.com/@shop/video/7400000000000000009"


def test_enqueue_on_a_terminal_prints_a_table_and_one_summary_line(env, broker):
    url = "https://www.tiktok.com/@shop/video/7400000000000000010"
    shown = run_flashflow("enqueue", url, url + "?utm_source=x", "ftp://example.com/v.mp4", env=env, columns=200)
    assert shown.code == 1  # one URL was refused
    assert "┃ id" in shown.stdout and "┃ reason" in shown.stdout and "…" not in shown.stdout
    assert shown.stdout.rstrip().splitlines()[-1] == "1 new, 1 existing, 1 refused"
    assert "only http and https URLs are accepted" in shown.stdout


def test_logs_are_text_on_a_terminal_and_json_otherwise(env, admin_url):
    databases = []

    def empty_database() -> str:
        name = f"fftest_logs_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        databases.append(admin_url.replace("/postgres?", f"/{name}?", 1))
        return databases[-1]

    try:
        quiet = {**env, "FLASHFLOW_LOG_LEVEL": "info"}  # any case, as long as one level matches
        at_terminal = run_flashflow("migrate", env={**quiet, "DATABASE_URL": empty_database()}, tty=("stderr",))
        assert at_terminal.code == 0, at_terminal.stderr
        first = at_terminal.stderr.splitlines()[0]
        assert first.startswith("info    flashflow_core.db.migrate: applying migration migration=2026"), first

        piped = run_flashflow("migrate", env={**quiet, "DATABASE_URL": empty_database()}, tty=())
        event = json.loads(piped.stderr.splitlines()[0])
        assert (event["level"], event["event"]) == ("info", "applying migration")

        chosen = run_flashflow("migrate", env={**quiet, "DATABASE_URL": empty_database(),
                                               "FLASHFLOW_LOG_FORMAT": "JSON"}, tty=("stderr",))
        assert json.loads(chosen.stderr.splitlines()[0])["event"] == "applying migration"
    finally:
        for url in databases:
            drop_database(admin_url, url)


def test_dlq_purge_asks_at_a_terminal(env, broker):
    client = broker.client
    rid = str(uuid.uuid4())
    client.zadd("dramatiq:default.XQ", {rid: int(time.time() * 1000)})
    client.hset("dramatiq:default.XQ.msgs", rid, b"{oops")

    kept = run_flashflow("dlq", "purge", "--all", env=env, answer="n")
    assert kept.code == 1 and "Delete 1 dead-lettered message(s) for good? [y/N]" in kept.stderr
    assert "nothing purged" in kept.stderr and client.zcard("dramatiq:default.XQ") == 1

    purged = run_flashflow("dlq", "purge", rid[:8], env=env, answer="y")
    assert purged.code == 0 and "purged 1 message(s)" in purged.stdout
    assert client.zcard("dramatiq:default.XQ") == 0
