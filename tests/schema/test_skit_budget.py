"""apply_skit_budget: a token bucket of 300 points refilled at 1 point per second.

Refill is tested by moving updated_at back in time rather than by sleeping; small margins
allow for the milliseconds that pass between statements.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable

import psycopg
import pytest
from psycopg import errors

pytestmark = pytest.mark.embedded

MARGIN = 1  # points that may refill while a test runs (1 point per second)


def apply(conn: psycopg.Connection, org: uuid.UUID, user: uuid.UUID, cost: float) -> dict:
    return conn.execute("SELECT * FROM public.apply_skit_budget(%s, %s, %s)", (org, user, cost)).fetchone()


def stored_points(conn: psycopg.Connection, org: uuid.UUID, user: uuid.UUID) -> float:
    row = conn.execute("SELECT points FROM public.skit_budget WHERE org_id = %s AND user_id = %s", (org, user)).fetchone()
    return float(row["points"])


def rewind(conn: psycopg.Connection, org: uuid.UUID, user: uuid.UUID, points: float, seconds: float) -> None:
    conn.execute(
        "UPDATE public.skit_budget SET points = %s, updated_at = clock_timestamp() - make_interval(secs => %s)"
        " WHERE org_id = %s AND user_id = %s",
        (points, seconds, org, user),
    )


@pytest.fixture
def bucket(make_user: Callable[..., uuid.UUID]) -> tuple[uuid.UUID, uuid.UUID]:
    return uuid.uuid4(), make_user()


def test_first_use_starts_full_and_charges(conn: psycopg.Connection, bucket: tuple[uuid.UUID, uuid.UUID]) -> None:
    result = apply(conn, *bucket, 100)
    assert result["allowed"] is True and result["retry_after_s"] == 0
    assert 200 <= result["remaining"] < 200 + MARGIN
    assert 200 <= stored_points(conn, *bucket) < 200 + MARGIN


def test_refuses_when_not_enough_points(conn: psycopg.Connection, bucket: tuple[uuid.UUID, uuid.UUID]) -> None:
    apply(conn, *bucket, 100)
    rewind(conn, *bucket, points=20, seconds=0)
    result = apply(conn, *bucket, 50)
    assert result["allowed"] is False
    assert 20 <= result["remaining"] < 20 + MARGIN
    assert 30 - MARGIN < result["retry_after_s"] <= 30
    assert stored_points(conn, *bucket) == 20  # a refusal charges nothing


def test_refills_with_time(conn: psycopg.Connection, bucket: tuple[uuid.UUID, uuid.UUID]) -> None:
    apply(conn, *bucket, 300)
    assert apply(conn, *bucket, 90)["allowed"] is False
    rewind(conn, *bucket, points=0, seconds=100)
    result = apply(conn, *bucket, 90)
    assert result["allowed"] is True
    assert 10 <= result["remaining"] < 10 + MARGIN


def test_refill_stops_at_capacity(conn: psycopg.Connection, bucket: tuple[uuid.UUID, uuid.UUID]) -> None:
    apply(conn, *bucket, 1)
    rewind(conn, *bucket, points=0, seconds=3600)
    result = apply(conn, *bucket, 0)
    assert result["allowed"] is True and result["remaining"] == 300
    over = apply(conn, *bucket, 301)
    assert over["allowed"] is False and over["retry_after_s"] is None


def test_buckets_are_per_org_and_user(
    conn: psycopg.Connection, bucket: tuple[uuid.UUID, uuid.UUID], make_user: Callable[..., uuid.UUID]
) -> None:
    org, user = bucket
    assert apply(conn, org, user, 300)["allowed"] is True
    assert apply(conn, org, make_user(), 300)["allowed"] is True
    assert apply(conn, uuid.uuid4(), user, 300)["allowed"] is True
    assert apply(conn, org, user, 300)["allowed"] is False


def test_concurrent_calls_never_overdraw(db_url: str, bucket: tuple[uuid.UUID, uuid.UUID]) -> None:
    callers = 10
    barrier = threading.Barrier(callers)
    allowed: list[bool] = []
    failures: list[BaseException] = []

    def call() -> None:
        try:
            with psycopg.connect(db_url, autocommit=True) as own:
                barrier.wait(timeout=30)
                allowed.append(own.execute("SELECT allowed FROM public.apply_skit_budget(%s, %s, 100)", bucket).fetchone()[0])
        except BaseException as exc:
            failures.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=call) for _ in range(callers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not failures, failures
    assert sorted(allowed) == [False] * 7 + [True] * 3


@pytest.mark.parametrize("cost", [-1, None])
def test_refuses_a_bad_cost(conn: psycopg.Connection, bucket: tuple[uuid.UUID, uuid.UUID], cost: float | None) -> None:
    with pytest.raises(errors.InvalidParameterValue, match="cost must be a number >= 0"):
        apply(conn, *bucket, cost)
