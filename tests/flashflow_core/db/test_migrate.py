"""The migration runner: replays are no-ops, edited files are refused, failures roll back, and
two `flashflow migrate` processes racing on one empty database leave one clean schema."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from flashflow_core.db.migrate import Migration, MigrationError, discover, migrate
from tests.conftest import _with_dbname, create_migrated_database, drop_database

pytestmark = pytest.mark.embedded


@pytest.fixture
def empty_db(admin_url: str) -> Iterator[str]:
    """A new database with nothing in it, dropped after the test."""
    name = f"fftest_empty_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = _with_dbname(admin_url, name)
    yield url
    drop_database(admin_url, url)


def recorded(url: str) -> list[tuple[str, str]]:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT version, name FROM flashflow_migrations.applied ORDER BY version").fetchall()


def public_tables(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename").fetchall()
    return [name for (name,) in rows]


def test_applying_twice_is_a_no_op(admin_url: str) -> None:
    url = create_migrated_database(admin_url)
    try:
        before = recorded(url)
        assert [v for v, _ in before] == [m.version for m in discover()]
        assert migrate(url) == []
        assert recorded(url) == before
    finally:
        drop_database(admin_url, url)


def test_an_edited_applied_migration_is_refused(empty_db: str) -> None:
    first = Migration("1", "create_t", "CREATE TABLE public.t (id integer)")
    second = Migration("2", "create_u", "CREATE TABLE public.u (id integer)")
    assert migrate(empty_db, migrations=[first]) == [first]

    edited = Migration("1", "create_t", "CREATE TABLE public.t (id bigint)")
    with pytest.raises(MigrationError) as info:
        migrate(empty_db, migrations=[edited, second])
    message = str(info.value)
    assert "1_create_t.sql was edited after it was applied" in message
    assert "put the change in a new migration" in message
    # Nothing after the refusal ran.
    assert public_tables(empty_db) == ["t"]
    assert recorded(empty_db) == [("1", "create_t")]


def test_a_failing_migration_is_rolled_back_and_stops_the_run(empty_db: str) -> None:
    good = Migration("1", "good", "CREATE TABLE public.good (id integer)")
    bad = Migration("2", "bad", "CREATE TABLE public.half (id integer); SELECT no_such_function()")
    after = Migration("3", "after", "CREATE TABLE public.after (id integer)")
    with pytest.raises(MigrationError, match=r"migration 2_bad.sql failed and was rolled back: .*no_such_function"):
        migrate(empty_db, migrations=[good, bad, after])
    assert public_tables(empty_db) == ["good"]
    assert recorded(empty_db) == [("1", "good")]


def flashflow_executable() -> Path:
    """The `flashflow` console script of the environment running the tests."""
    path = Path(sys.executable).parent / "flashflow"
    assert path.exists(), f"{path} is missing: install the package first (pip install -e .)"
    return path


def cli_env(database_url: str, redis_url: str, tmp_path: Path) -> dict[str, str]:
    """The test process's environment with the given servers and no other FlashFlow settings."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("FLASHFLOW_")},
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "FLASHFLOW_HOME": str(tmp_path / "home"),
        "FLASHFLOW_LOG_FORMAT": "text",
    }


def test_concurrent_flashflow_migrate_runs_apply_each_migration_once(
    empty_db: str, session_db_url: str, redis_url: str, tmp_path: Path
) -> None:
    env = cli_env(empty_db, redis_url, tmp_path)
    command = [str(flashflow_executable()), "migrate"]
    runs = [
        subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)
    ]
    outputs = [run.communicate(timeout=240) for run in runs]
    for run, (out, err) in zip(runs, outputs):
        assert run.returncode == 0, f"flashflow migrate exited {run.returncode}:\n{out}\n{err}"

    migrations = discover()
    counts = sorted(int(re.search(r"\((\d+) applied now\)", out).group(1)) for out, _ in outputs)
    assert counts == [0, len(migrations)]
    assert recorded(empty_db) == [(m.version, m.name) for m in migrations]
    assert public_tables(empty_db) == public_tables(session_db_url)  # the same schema as one migrate() makes
    with psycopg.connect(empty_db) as conn:
        (plans,) = conn.execute("SELECT count(*) FROM public.subscription_plans").fetchone()
    assert plans == 4


def test_flashflow_migrate_reports_an_edited_migration(empty_db: str, redis_url: str, tmp_path: Path) -> None:
    assert migrate(empty_db)
    with psycopg.connect(empty_db, autocommit=True) as conn:
        conn.execute("UPDATE flashflow_migrations.applied SET checksum = 'tampered' WHERE name = 'supabase_auth'")
    env = cli_env(empty_db, redis_url, tmp_path)
    done = subprocess.run([str(flashflow_executable()), "migrate"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr
    expected = "flashflow migrate: migration 20261125000100_supabase_auth.sql was edited after it was applied"
    assert expected in done.stderr
