"""deduct_credit, add_credits and reset_monthly_credits: balances, the credit_transactions
audit trail, the admin bypass, and deduction under concurrency."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta

import psycopg
import pytest
from psycopg import errors

from tests.schema.conftest import insert

pytestmark = pytest.mark.embedded


def credits(conn: psycopg.Connection, user: uuid.UUID) -> dict:
    return conn.execute("SELECT * FROM public.user_credits WHERE user_id = %s", (user,)).fetchone()


def transactions(conn: psycopg.Connection, user: uuid.UUID) -> list[dict]:
    return conn.execute(
        "SELECT * FROM public.credit_transactions WHERE user_id = %s ORDER BY created_at, balance_after DESC", (user,)
    ).fetchall()


def deduct(conn: psycopg.Connection, user: uuid.UUID, description: str = "skit") -> dict:
    return conn.execute("SELECT * FROM public.deduct_credit(%s, %s)", (user, description)).fetchone()


@pytest.fixture
def temp_plan(conn: psycopg.Connection) -> Iterator[str]:
    """A plan of 42 credits a month, removed again (with its subscriptions) after the test."""
    plan_id = f"test_{uuid.uuid4().hex[:8]}"
    insert(conn, "subscription_plans", id=plan_id, name="Test plan", credits_per_month=42)
    yield plan_id
    conn.execute("DELETE FROM public.user_subscriptions WHERE plan_id = %s", (plan_id,))
    conn.execute("DELETE FROM public.subscription_plans WHERE id = %s", (plan_id,))


def test_deduct_credit_is_atomic_under_concurrency(
    db_url: str, conn: psycopg.Connection, make_user: Callable[..., uuid.UUID]
) -> None:
    user = make_user()
    insert(conn, "user_credits", user_id=user, credits_remaining=5)
    callers = 20
    barrier = threading.Barrier(callers)
    results: list[tuple | None] = [None] * callers
    failures: list[BaseException] = []

    def call(i: int) -> None:
        try:
            with psycopg.connect(db_url, autocommit=True) as own:
                barrier.wait(timeout=30)
                results[i] = own.execute(
                    "SELECT success, credits_remaining, admin_bypass FROM public.deduct_credit(%s, %s)",
                    (user, f"skit {i}"),
                ).fetchone()
        except BaseException as exc:
            failures.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=call, args=(i,)) for i in range(callers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not failures, failures

    succeeded = [r for r in results if r is not None and r[0]]
    refused = [r for r in results if r is not None and not r[0]]
    assert (len(succeeded), len(refused)) == (5, 15)
    assert sorted(r[1] for r in succeeded) == [0, 1, 2, 3, 4]
    assert {r[1] for r in refused} == {0}
    assert not any(r[2] for r in results if r is not None)

    row = credits(conn, user)
    assert (row["credits_remaining"], row["credits_used_this_period"], row["lifetime_credits_used"]) == (0, 5, 5)
    log = transactions(conn, user)
    assert sorted((t["balance_after"] for t in log), reverse=True) == [4, 3, 2, 1, 0]
    assert {(t["type"], t["amount"]) for t in log} == {("generation", -1)}


def test_deduct_credit_creates_a_free_balance_for_a_new_user(
    conn: psycopg.Connection, make_user: Callable[..., uuid.UUID]
) -> None:
    user = make_user()
    skit = insert(conn, "saved_skits", title="S", skit_data=psycopg.types.json.Jsonb({}), user_id=user)
    result = conn.execute("SELECT * FROM public.deduct_credit(%s, %s, %s)", (user, "first skit", skit["id"])).fetchone()
    assert result == {"success": True, "credits_remaining": 4, "admin_bypass": False}
    row = credits(conn, user)
    assert (row["credits_remaining"], row["free_credits_used"]) == (4, 1)
    (t,) = transactions(conn, user)
    assert (t["amount"], t["balance_after"], t["description"], t["skit_id"]) == (-1, 4, "first skit", skit["id"])


def test_deduct_credit_refuses_at_zero_without_recording(
    conn: psycopg.Connection, make_user: Callable[..., uuid.UUID]
) -> None:
    user = make_user()
    insert(conn, "user_credits", user_id=user, credits_remaining=0)
    assert deduct(conn, user) == {"success": False, "credits_remaining": 0, "admin_bypass": False}
    assert transactions(conn, user) == []


def test_paid_plan_generations_do_not_use_free_credits(
    conn: psycopg.Connection, make_user: Callable[..., uuid.UUID]
) -> None:
    user = make_user()
    insert(conn, "user_subscriptions", user_id=user, plan_id="pro", status="active")
    insert(conn, "user_credits", user_id=user, credits_remaining=10)
    assert deduct(conn, user)["success"] is True
    row = credits(conn, user)
    assert (row["credits_remaining"], row["free_credits_used"], row["lifetime_credits_used"]) == (9, 0, 1)


def test_admin_bypasses_the_check_and_is_not_charged(
    conn: psycopg.Connection, make_user: Callable[..., uuid.UUID]
) -> None:
    admin = make_user(role="admin")
    insert(conn, "user_credits", user_id=admin, credits_remaining=0)
    for _ in range(3):
        assert deduct(conn, admin, "admin skit") == {"success": True, "credits_remaining": 0, "admin_bypass": True}
    assert credits(conn, admin)["credits_remaining"] == 0
    log = transactions(conn, admin)
    assert [(t["type"], t["amount"], t["balance_after"], t["metadata"]) for t in log] == [
        ("generation", 0, 0, {"admin_bypass": True})
    ] * 3

    editor = make_user(role="editor")
    insert(conn, "user_credits", user_id=editor, credits_remaining=0)
    assert deduct(conn, editor)["success"] is False


def test_add_credits(conn: psycopg.Connection, make_user: Callable[..., uuid.UUID]) -> None:
    user = make_user()
    (balance,) = conn.execute("SELECT public.add_credits(%s, 10, 'purchase', 'pack of 10')", (user,)).fetchone().values()
    assert balance == 15  # created with the free 5, then 10 added
    (balance,) = conn.execute("SELECT public.add_credits(%s, 2, 'refund', NULL)", (user,)).fetchone().values()
    assert balance == 17
    assert credits(conn, user)["credits_remaining"] == 17
    log = transactions(conn, user)
    assert [(t["type"], t["amount"], t["balance_after"]) for t in log] == [("purchase", 10, 15), ("refund", 2, 17)]


@pytest.mark.parametrize(
    ("amount", "kind", "message"),
    [
        (0, "bonus", "amount must be a positive number"),
        (-3, "bonus", "amount must be a positive number"),
        (5, "generation", "type must be one of"),
        (5, None, "type must be one of"),
    ],
)
def test_add_credits_refuses_bad_input(
    conn: psycopg.Connection, make_user: Callable[..., uuid.UUID], amount: int, kind: str | None, message: str
) -> None:
    user = make_user()
    with pytest.raises(errors.InvalidParameterValue, match=message):
        conn.execute("SELECT public.add_credits(%s, %s, %s, 'x')", (user, amount, kind))
    assert credits(conn, user) is None


def test_reset_monthly_credits_uses_the_subscribed_plan(
    conn: psycopg.Connection, make_user: Callable[..., uuid.UUID], temp_plan: str
) -> None:
    user = make_user()
    (now,) = conn.execute("SELECT now()").fetchone().values()
    start, end = now - timedelta(days=2), now + timedelta(days=28)
    insert(conn, "user_subscriptions", user_id=user, plan_id=temp_plan, status="active",
           current_period_start=start, current_period_end=end)
    insert(conn, "user_credits", user_id=user, credits_remaining=3, credits_used_this_period=7)

    (balance,) = conn.execute(
        "SELECT public.reset_monthly_credits(%s, 'subscription_renewal')", (user,)
    ).fetchone().values()
    assert balance == 42
    row = credits(conn, user)
    assert (row["credits_remaining"], row["credits_used_this_period"]) == (42, 0)
    assert (row["period_start"], row["period_end"]) == (start, end)
    (t,) = transactions(conn, user)
    assert (t["type"], t["amount"], t["balance_after"]) == ("subscription_renewal", 39, 42)
    assert (t["metadata"]["plan_id"], t["metadata"]["previous_balance"]) == (temp_plan, 3)


def test_reset_monthly_credits_falls_back_to_the_free_plan(
    conn: psycopg.Connection, make_user: Callable[..., uuid.UUID], temp_plan: str
) -> None:
    (free_credits,) = conn.execute(
        "SELECT credits_per_month FROM public.subscription_plans WHERE id = 'free'"
    ).fetchone().values()
    unsubscribed, canceled = make_user(), make_user()
    insert(conn, "user_subscriptions", user_id=canceled, plan_id=temp_plan, status="canceled")
    for user in (unsubscribed, canceled):
        insert(conn, "user_credits", user_id=user, credits_remaining=80)
        (before,) = conn.execute("SELECT now()").fetchone().values()
        (balance,) = conn.execute("SELECT public.reset_monthly_credits(%s)", (user,)).fetchone().values()
        (after,) = conn.execute("SELECT now()").fetchone().values()
        assert balance == free_credits
        row = conn.execute(
            "SELECT period_start, period_end = period_start + interval '1 month' AS one_month"
            " FROM public.user_credits WHERE user_id = %s",
            (user,),
        ).fetchone()
        assert before <= row["period_start"] <= after and row["one_month"] is True
        (t,) = transactions(conn, user)
        assert (t["type"], t["amount"], t["balance_after"]) == ("reset", free_credits - 80, free_credits)


def test_reset_monthly_credits_refuses_an_unknown_type(
    conn: psycopg.Connection, make_user: Callable[..., uuid.UUID]
) -> None:
    with pytest.raises(errors.InvalidParameterValue, match="type must be reset or subscription_renewal"):
        conn.execute("SELECT public.reset_monthly_credits(%s, 'bonus')", (make_user(),))
