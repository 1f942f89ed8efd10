"""Shared fixtures: a migrated Postgres database per test session, cleaned after each test,
and a Redis database index flushed around each test.

With DATABASE_URL / REDIS_URL set (CI: the system servers) the tests use those servers;
unset, they start the embedded Postgres and Valkey servers under `.flashflow-test/`.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlencode

import psycopg
import pytest
import redis
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import dict_row

from flashflow_core.config import Settings
from flashflow_core.db.migrate import migrate
from tests.openai_server import openai_server  # noqa: F401 - fixture
from tests.media_server import media_server  # noqa: F401 - fixture

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHARED_TOOLS = ROOT.parent / "shared" / "tools"  # the developer tools beside the checkout, never copied in
# One cache of reassembled Whisper models for every test and the processes they start (each test's
# FLASHFLOW_HOME is its own): set before any Settings is built, inherited by subprocesses.
os.environ.setdefault("FLASHFLOW_MODEL_CACHE", str(ROOT / ".flashflow-test" / "models"))
# Rows that migrations seed and tests must keep.
SEEDED_TABLES = {"subscription_plans"}


def _server_urls() -> tuple[str, str]:
    db, rd = os.environ.get("DATABASE_URL"), os.environ.get("REDIS_URL")
    if db and rd:
        return db, rd
    from flashflow_core.embedded.services import ensure_services

    resolved = ensure_services(Settings(home=ROOT / ".flashflow-test", database_url=db, redis_url=rd))
    return resolved.database_url, resolved.redis_url  # type: ignore[return-value]


@pytest.fixture(scope="session")
def server_urls() -> tuple[str, str]:
    """(Postgres URL, Redis URL) of the servers under test."""
    return _server_urls()


def _with_dbname(url: str, dbname: str) -> str:
    """`url` pointed at database `dbname`, as a postgresql:// URL (what Settings accepts)."""
    params = {k: str(v) for k, v in conninfo_to_dict(url).items() if k != "dbname"}
    return f"postgresql:///{quote(dbname, safe='')}?{urlencode(params)}"


@pytest.fixture(scope="session")
def admin_url(server_urls: tuple[str, str]) -> str:
    """URL of the server's `postgres` database, for creating and dropping test databases."""
    return _with_dbname(server_urls[0], "postgres")


def create_migrated_database(admin_url: str, prefix: str = "fftest") -> str:
    """Create an empty database, apply every migration, return its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = _with_dbname(admin_url, name)
    migrate(url)
    return url


def drop_database(admin_url: str, url: str) -> None:
    """Drop a test database, disconnecting whoever is still on it."""
    name = conninfo_to_dict(url)["dbname"]
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def session_db_url(admin_url: str) -> Iterator[str]:
    """A database migrated once for the whole session."""
    url = create_migrated_database(admin_url)
    yield url
    drop_database(admin_url, url)


def _truncate_all(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        tables = conn.execute(
            """
            SELECT format('%%I.%%I', schemaname, tablename) FROM pg_tables
            WHERE schemaname IN ('public', 'auth') AND NOT (schemaname = 'public' AND tablename = ANY(%s))
            """,
            (sorted(SEEDED_TABLES),),
        ).fetchall()
        if tables:
            conn.execute("TRUNCATE " + ", ".join(t for (t,) in tables) + " RESTART IDENTITY CASCADE")


@pytest.fixture
def db_url(session_db_url: str) -> Iterator[str]:
    """URL of the migrated test database; every table is emptied after the test."""
    yield session_db_url
    _truncate_all(session_db_url)


@pytest.fixture
def conn(db_url: str) -> Iterator[psycopg.Connection]:
    """An autocommit dict-row connection to the test database."""
    with psycopg.connect(db_url, autocommit=True, row_factory=dict_row) as connection:
        yield connection


REDIS_TEST_DBS = range(2, 16)  # 0 and 1 are left to people and the embedded default
REDIS_CLAIM_TTL_S = 3 * 3600


@pytest.fixture(scope="session")
def redis_test_url(server_urls: tuple[str, str]) -> Iterator[str]:
    """A Redis URL on a database index this session holds alone, so parallel sessions (several
    checkouts on one machine) never flush each other's keys: each index is claimed with SET NX
    in database 1 and given back at the end (or after REDIS_CLAIM_TTL_S if the session dies)."""
    base = server_urls[1].rsplit("/", 1)[0] if server_urls[1].count("/") > 2 else server_urls[1].rstrip("/")
    claims = redis.Redis.from_url(f"{base}/1")
    token = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
    for index in REDIS_TEST_DBS:
        if claims.set(f"flashflow-test:db:{index}", token, nx=True, ex=REDIS_CLAIM_TTL_S):
            break
    else:
        raise RuntimeError(f"every Redis test database {REDIS_TEST_DBS.start}-{REDIS_TEST_DBS.stop - 1} "
                           "is claimed by another test session (keys flashflow-test:db:* in database 1)")
    yield f"{base}/{index}"
    if claims.get(f"flashflow-test:db:{index}") == token.encode():
        claims.delete(f"flashflow-test:db:{index}")
    claims.close()


@pytest.fixture
def redis_url(redis_test_url: str) -> Iterator[str]:
    """The test Redis database, flushed before and after the test."""
    client = redis.Redis.from_url(redis_test_url)
    client.flushdb()
    yield redis_test_url
    client.flushdb()
    client.close()


@pytest.fixture
def settings(db_url: str, redis_url: str, tmp_path: Path) -> Settings:
    """Settings pointing at the test database and Redis, with storage under tmp_path."""
    return Settings(
        database_url=db_url,
        redis_url=redis_url,
        home=tmp_path / "home",
        storage_root=tmp_path / "storage",
        fetch_allow_hosts=["127.0.0.1"],
        log_format="text",
    )


@pytest.fixture
def broker(settings: Settings):
    """The real Redis broker with every actor declared, and the job runtime for these settings."""
    from jobs import runtime
    from jobs.boot import boot

    the_broker = boot(settings).broker
    the_broker.flush_all()
    yield the_broker
    the_broker.flush_all()
    runtime.current().close()
    the_broker.close()


@pytest.fixture
def worker(broker):
    """A real Dramatiq worker on all queues, stopped after the test."""
    from dramatiq import Worker

    the_worker = Worker(broker, worker_timeout=100, worker_threads=2)
    the_worker.start()
    yield the_worker
    the_worker.stop()


def drain(broker, worker, timeout_s: float = 120) -> None:
    """Wait until every queue is empty (delayed messages included) and the worker is idle."""
    import time

    deadline = time.monotonic() + timeout_s
    while True:
        for queue in list(broker.get_declared_queues()):
            broker.join(queue, timeout=int(max(deadline - time.monotonic(), 0.1) * 1000))
        worker.join()
        if all(_queue_empty(broker, q) for q in broker.get_declared_queues()):
            return
        if time.monotonic() > deadline:
            raise TimeoutError("queues did not drain")


def _queue_empty(broker, queue: str) -> bool:
    from dramatiq.common import dq_name

    client = broker.client
    ns = broker.namespace
    return all(client.llen(f"{ns}:{q}") == 0 and client.hlen(f"{ns}:{q}.msgs") == 0
               for q in (queue, dq_name(queue)))
