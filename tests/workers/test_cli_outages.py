"""Every command with Postgres or Redis down answers in one line, naming the server (host and port,
never the password), with exit code 4, well within 10 s; a database that is not migrated says to
run `flashflow migrate` (exit code 5). Servers are made unreachable without touching the shared
ones: a closed free port (refused at once) and a blackhole (a listening socket whose accept queue
is full, so connection attempts hang until the client's timeout)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from flashflow_core.db import migrate
from flashflow_core.embedded.common import free_port
from flashflow_core.ops.outages import postgres_address
from tests.conftest import FIXTURES, ROOT, create_migrated_database, drop_database
from workers.cli import main
from workers.exit_codes import ExitCode

pytestmark = pytest.mark.timeout(120)
ANY_ID = "7d4a2b9c-0000-4000-8000-000000000001"
PASSWORD = "s3cret-pw"

# (argv, the servers it uses)
COMMANDS = [
    (["status"], "postgres"),
    (["show", "feed"], "postgres"),
    (["cancel", ANY_ID], "postgres"),
    (["migrate"], "postgres"),
    # With Redis down enqueue saves the rows, owing their messages (test_redis_outage.py).
    (["enqueue", "https://www.tiktok.com/@shop/video/7400000000000000001"], "postgres"),
    (["attach-file", ANY_ID, str(FIXTURES / "speech_only.mp4")], "postgres redis"),
    (["attach-transcript", ANY_ID, str(FIXTURES / "README.md")], "postgres redis"),
    (["retry", ANY_ID], "postgres redis"),
    (["dlq", "list"], "postgres redis"),
    (["dlq", "show", "x"], "postgres redis"),
    (["dlq", "requeue", "--all"], "postgres redis"),
    (["dlq", "purge", "--all", "--yes"], "postgres redis"),
    (["schedule", "run", "expire-assignments"], "redis"),
    (["queue", "list"], "redis"),
    (["queue", "pause", "fetch"], "postgres redis"),
    (["scheduler"], "postgres redis"),
    (["worker"], "postgres redis"),
    (["console", "--port", "0"], "postgres redis"),
]


def using(server: str) -> list:
    return [pytest.param(argv, id=" ".join(argv[:2])) for argv, servers in COMMANDS if server in servers]


@pytest.fixture
def blackhole() -> Iterator[int]:
    """A port on 127.0.0.1 where connections hang: its accept queue is full and nobody accepts."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    fillers = []
    for _ in range(4):
        filler = socket.socket()
        filler.setblocking(False)
        filler.connect_ex(listener.getsockname())
        fillers.append(filler)
    yield listener.getsockname()[1]
    for sock in [*fillers, listener]:
        sock.close()


@pytest.fixture
def run(monkeypatch, capsys, settings):
    """Run `flashflow ARGS` in process with given server URLs; (exit code, stderr lines, seconds);
    `call.out` keeps the last standard output."""
    monkeypatch.setenv("FLASHFLOW_HOME", str(settings.home))

    def call(argv: list[str], database_url: str, redis_url: str) -> tuple[int, list[str], float]:
        monkeypatch.setenv("DATABASE_URL", database_url)
        monkeypatch.setenv("REDIS_URL", redis_url)
        capsys.readouterr()
        started = time.monotonic()
        code = main(argv)
        seconds = time.monotonic() - started
        captured = capsys.readouterr()
        assert PASSWORD not in captured.out + captured.err
        call.out = captured.out
        return code, captured.err.splitlines(), seconds

    return call


def pg_at(port: int) -> str:
    return f"postgresql://flashflow:{PASSWORD}@127.0.0.1:{port}/flashflow"


def redis_at(port: int) -> str:
    return f"redis://flashflow:{PASSWORD}@127.0.0.1:{port}/0"


@pytest.mark.parametrize("argv", using("postgres"))
def test_postgres_refusing_connections(run, settings, argv):
    port = free_port()
    code, err, seconds = run(argv, pg_at(port), settings.redis_url)
    assert (code, err) == (ExitCode.UNAVAILABLE, [
        f"flashflow {' '.join(argv[:2] if argv[0] in ('dlq', 'schedule', 'queue') else argv[:1])}: "
        f"cannot reach Postgres at 127.0.0.1:{port} (connection refused)"])
    assert seconds < 10


@pytest.mark.parametrize("argv", using("redis"))
def test_redis_refusing_connections(run, settings, argv):
    port = free_port()
    code, err, seconds = run(argv, settings.database_url, redis_at(port))
    assert code == ExitCode.UNAVAILABLE and len(err) == 1, err
    assert err[0].endswith(f": cannot reach Redis at 127.0.0.1:{port} (connection refused)")
    assert seconds < 10


def test_servers_that_never_answer_are_given_up_on_in_seconds(run, settings, blackhole):
    code, err, seconds = run(["status"], pg_at(blackhole), settings.redis_url)
    assert (code, err) == (ExitCode.UNAVAILABLE, [
        f"flashflow status: cannot reach Postgres at 127.0.0.1:{blackhole} (no answer within 3 s)"])
    assert 2.5 < seconds < 10
    code, err, seconds = run(["enqueue", "https://example.com/v"], settings.database_url,
                             redis_at(blackhole))
    assert (code, err) == (ExitCode.UNAVAILABLE, [
        f"flashflow enqueue: cannot reach Redis at 127.0.0.1:{blackhole} (no answer within 3 s): the 1 new row(s) "
        "are saved and a worker sends them within seconds of Redis answering again"])
    assert 2.5 < seconds < 10


def test_the_installed_worker_with_both_servers_blackholed(blackhole, tmp_path):
    env = {**os.environ, "DATABASE_URL": pg_at(blackhole),
           "REDIS_URL": redis_at(blackhole), "FLASHFLOW_HOME": str(tmp_path)}
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "workers.cli", "worker"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=30)
    assert time.monotonic() - started < 10
    assert done.returncode == ExitCode.UNAVAILABLE and done.stdout == ""
    assert done.stderr.splitlines() == [
        f"flashflow worker: cannot reach Redis at 127.0.0.1:{blackhole} (no answer within 3 s)"]


def test_healthcheck_and_doctor_name_the_server_too(run, settings):
    port = free_port()
    code, err, seconds = run(["healthcheck"], pg_at(port), settings.redis_url)
    assert code == ExitCode.FAILED and seconds < 10
    assert err == [f"unhealthy: cannot reach Postgres at 127.0.0.1:{port} (connection refused)"]

    code, _, seconds = run(["doctor", "--json"], settings.database_url, redis_at(port))
    checks = {c["name"]: c for c in json.loads(run.out)["checks"]}
    assert code == ExitCode.FAILED and seconds < 10
    assert checks["redis"]["detail"] == f"cannot reach Redis at 127.0.0.1:{port} (connection refused)"
    assert checks["postgres"]["state"] == "found"


@pytest.fixture
def scratch_database(admin_url) -> Iterator[str]:
    """A migrated database of its own, which a test may break."""
    url = create_migrated_database(admin_url, prefix="fftest_scratch")
    yield url
    drop_database(admin_url, url)


def test_a_database_without_migrations_says_to_migrate(run, settings, scratch_database):
    with psycopg.connect(scratch_database, autocommit=True) as conn:
        conn.execute("DROP SCHEMA flashflow_migrations CASCADE")
    name = conninfo_to_dict(scratch_database)["dbname"]
    for argv in (["status"], ["worker"], ["retry", ANY_ID]):
        code, err, _ = run(argv, scratch_database, settings.redis_url)
        assert (code, err) == (ExitCode.NOT_MIGRATED, [
            f"flashflow {argv[0]}: the database {name} at {postgres_address(scratch_database)} "
            "has no FlashFlow tables: run `flashflow migrate`"])


def test_pending_migrations_and_missing_tables_say_to_migrate(run, settings, scratch_database):
    with psycopg.connect(scratch_database, autocommit=True) as conn:
        last = conn.execute("SELECT max(version) FROM flashflow_migrations.applied").fetchone()[0]
        conn.execute("DELETE FROM flashflow_migrations.applied WHERE version = %s", (last,))
    code, err, _ = run(["status"], scratch_database, settings.redis_url)
    assert code == ExitCode.NOT_MIGRATED and len(err) == 1
    assert f"has 1 migration(s) pending (first {last}_" in err[0] and err[0].endswith("run `flashflow migrate`")

    with psycopg.connect(scratch_database, autocommit=True) as conn:
        conn.execute("INSERT INTO flashflow_migrations.applied (version, name, checksum) VALUES (%s, 'x', 'x')",
                     (last,))
    code, err, _ = run(["status"], scratch_database, settings.redis_url)
    assert code == ExitCode.NOT_MIGRATED and "was edited after it was applied" in err[0]

    real = {m.version: m for m in migrate.discover()}[last].checksum
    with psycopg.connect(scratch_database, autocommit=True) as conn:
        conn.execute("UPDATE flashflow_migrations.applied SET checksum = %s WHERE version = %s", (real, last))
        conn.execute("DROP TABLE reference_videos CASCADE")
    code, err, _ = run(["status"], scratch_database, settings.redis_url)  # all applied, yet a table is gone
    assert code == ExitCode.NOT_MIGRATED and len(err) == 1
    assert 'lacks what this version needs (relation "reference_videos" does not exist' in err[0]
