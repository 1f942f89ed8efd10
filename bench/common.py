"""What the benchmarks share: resolved servers, a scratch database migrated for the run, timing."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from uuid import UUID
from contextlib import contextmanager
from urllib.parse import quote, urlencode

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from flashflow_core.config import Settings, load_settings
from flashflow_core.db.migrate import migrate
from flashflow_core.embedded.services import ensure_services
from flashflow_core.winners.pipeline import Pipeline, StageResult
from flashflow_core.winners.states import Stage


def _with_dbname(url: str, dbname: str) -> str:
    params = {k: str(v) for k, v in conninfo_to_dict(url).items() if k != "dbname"}
    return f"postgresql:///{quote(dbname, safe='')}?{urlencode(params)}"


@contextmanager
def scratch_settings(**overrides: object) -> Iterator[Settings]:
    """Settings on a fresh, migrated database and a broker namespace of its own; both removed after."""
    base = ensure_services(load_settings())
    name = f"ffbench_{uuid.uuid4().hex[:10]}"
    admin = _with_dbname(base.database_url or "", "postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = _with_dbname(admin, name)
    migrate(url)
    namespace = f"ffbench-{uuid.uuid4().hex[:8]}"
    try:
        yield base.model_copy(update={"database_url": url, "broker_namespace": namespace, **overrides})
    finally:
        import redis

        client = redis.Redis.from_url(base.redis_url or "")
        keys = list(client.scan_iter(f"{namespace}*", count=1000))
        if keys:
            client.delete(*keys)
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def time_stages(pipeline: Pipeline, reference_id: UUID, message_prefix: str = "bench") -> tuple[dict[str, float], StageResult]:
    """Run the row's stages here in order until one does not advance: seconds per stage run, and
    the last stage's result (`advanced` when the row is ready)."""
    took: dict[str, float] = {}
    for stage in Stage:
        start = time.perf_counter()
        result = pipeline.run_stage(stage, reference_id, f"{message_prefix}-{stage}-{reference_id}")
        took[str(stage)] = time.perf_counter() - start
        if result.outcome != "advanced":
            break
    return took, result


def wait_until(predicate, timeout_s: float, interval_s: float = 0.05) -> float:
    """Poll `predicate` until true; return the seconds it took, or raise TimeoutError."""
    start = time.perf_counter()
    while not predicate():
        if time.perf_counter() - start > timeout_s:
            raise TimeoutError(f"not done after {timeout_s} s")
        time.sleep(interval_s)
    return time.perf_counter() - start


def timed_statement(url: str, statement: str) -> tuple[float, int]:
    """(seconds, rows affected) of one SQL statement, committed: the raw-SQL baselines."""
    with psycopg.connect(url) as conn:
        start = time.perf_counter()
        count = conn.execute(statement).rowcount
        conn.commit()
        return time.perf_counter() - start, count


def print_comparison(times: dict[str, list[float]], rows: int, unit: str) -> None:
    """A Markdown table of each method's best and median time, rate, and the job's time against it."""
    import statistics

    best = {method: min(values) for method, values in times.items()}
    print(f"| method | seconds (best) | seconds (median) | {unit}/s | job time / this time |")
    print("|---|---|---|---|---|")
    for method, seconds in best.items():
        print(f"| {method} | {seconds:.2f} | {statistics.median(times[method]):.2f} | "
              f"{rows / seconds:,.0f} | {best['job'] / seconds:.2f}x |")
