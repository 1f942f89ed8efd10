"""renew_credits on the real database, including two runs at once and a crash mid-batch."""

from __future__ import annotations

import threading
import uuid

import psycopg
import pytest

from flashflow_core.credits.renewal import renew_credits
from tests.flashflow_core.job_rows import insert, make_user, one


def subscribe(conn, *, plan="pro", status="active", period="monthly", ends="now() - interval '1 hour'",
              balance=2) -> uuid.UUID:
    user = make_user(conn)
    insert(conn, "user_credits", user_id=user, credits_remaining=balance, credits_used_this_period=7)
    insert(conn, "user_subscriptions", user_id=user, plan_id=plan, status=status, billing_period=period)
    conn.execute(f"""UPDATE user_subscriptions SET current_period_end = {ends},
                     current_period_start = {ends} - interval '1 month' WHERE user_id = %s""", (user,))
    return user


def subscription(conn, user):
    return conn.execute("""SELECT plan_id, status, billing_period, current_period_start, current_period_end,
                           current_period_end - current_period_start AS length
                           FROM user_subscriptions WHERE user_id = %s""", (user,)).fetchone()


def transactions(conn, user):
    return conn.execute("SELECT * FROM credit_transactions WHERE user_id = %s ORDER BY created_at", (user,)).fetchall()


def test_active_subscription_moves_one_period_and_gets_its_credits(conn, pool):
    user = subscribe(conn, plan="pro", balance=2, ends="date_trunc('second', now()) - interval '1 hour'")
    old_end = subscription(conn, user)["current_period_end"]

    result = renew_credits(pool, batch_size=50, message_id="corr")

    assert (result.renewed, result.downgraded, result.already_granted) == (1, 0, 0)
    sub = subscription(conn, user)
    assert (sub["plan_id"], sub["status"]) == ("pro", "active")
    assert sub["current_period_start"] == old_end
    assert one(conn, "SELECT %s::timestamptz + interval '1 month' = %s", old_end, sub["current_period_end"])
    credits = conn.execute("SELECT * FROM user_credits WHERE user_id = %s", (user,)).fetchone()
    assert (credits["credits_remaining"], credits["credits_used_this_period"]) == (300, 0)
    assert (credits["period_start"], credits["period_end"]) == (sub["current_period_start"], sub["current_period_end"])
    [tx] = transactions(conn, user)
    assert (tx["type"], tx["amount"], tx["balance_after"]) == ("subscription_renewal", 298, 300)
    assert one(conn, "SELECT count(*) FROM flashflow_credit_renewals WHERE user_id = %s", user) == 1
    [audit] = conn.execute("SELECT * FROM audit_log").fetchall()
    assert (audit["event_type"], audit["message_id"], audit["correlation_id"]) == ("job.renew_credits", "corr", "corr")
    assert audit["details"]["renewed"] == 1


def test_trialing_and_yearly_renew_by_their_own_period(conn, pool):
    trial = subscribe(conn, plan="starter", status="trialing")
    yearly = subscribe(conn, plan="team", period="yearly")
    renew_credits(pool, batch_size=50, message_id="c")
    assert subscription(conn, trial)["status"] == "trialing"
    assert one(conn, "SELECT credits_remaining FROM user_credits WHERE user_id = %s", trial) == 75
    assert str(subscription(conn, yearly)["length"]) in ("365 days, 0:00:00", "366 days, 0:00:00")
    assert one(conn, "SELECT credits_remaining FROM user_credits WHERE user_id = %s", yearly) == 1000


def test_canceled_subscription_drops_to_free_at_period_end(conn, pool):
    user = subscribe(conn, plan="pro", status="canceled", balance=250)
    result = renew_credits(pool, batch_size=50, message_id="c")
    assert (result.renewed, result.downgraded) == (0, 1)
    sub = subscription(conn, user)
    assert (sub["plan_id"], sub["status"], sub["billing_period"]) == ("free", "active", "monthly")
    [tx] = transactions(conn, user)
    assert (tx["type"], tx["amount"], tx["balance_after"]) == ("reset", -245, 5)
    assert tx["metadata"]["plan_id"] == "free"


def test_past_due_paused_current_and_free_canceled_are_left_alone(conn, pool):
    left = [subscribe(conn, status="past_due"), subscribe(conn, status="paused"),
            subscribe(conn, ends="now() + interval '1 day'"), subscribe(conn, plan="free", status="canceled")]
    before = [subscription(conn, u) for u in left]
    result = renew_credits(pool, batch_size=50, message_id="c")
    assert (result.renewed, result.downgraded) == (0, 0)
    assert [subscription(conn, u) for u in left] == before
    assert one(conn, "SELECT count(*) FROM credit_transactions") == 0


def test_long_overdue_subscription_moves_to_the_current_period_once(conn, pool):
    user = subscribe(conn, ends="now() - interval '100 days'")
    result = renew_credits(pool, batch_size=50, message_id="c")
    assert result.renewed == 1
    sub = subscription(conn, user)
    assert one(conn, "SELECT %s::timestamptz <= now() AND now() < %s::timestamptz",
               sub["current_period_start"], sub["current_period_end"])
    assert len(transactions(conn, user)) == 1
    assert renew_credits(pool, batch_size=50, message_id="c2").renewed == 0


def test_a_period_put_back_by_hand_is_not_granted_twice(conn, pool):
    user = subscribe(conn)
    old = subscription(conn, user)
    renew_credits(pool, batch_size=50, message_id="c")
    conn.execute("UPDATE user_subscriptions SET current_period_start = %s, current_period_end = %s WHERE user_id = %s",
                 (old["current_period_start"], old["current_period_end"], user))
    again = renew_credits(pool, batch_size=50, message_id="c2")
    assert (again.renewed, again.already_granted) == (0, 1)
    assert len(transactions(conn, user)) == 1


def test_two_runs_at_the_same_moment_grant_each_user_once(conn, db_url, settings):
    from flashflow_core.db.pool import make_pool

    users = [subscribe(conn, ends=f"now() - interval '{i} seconds'") for i in range(1, 121)]
    pools = [make_pool(settings, name=f"renew-{i}") for i in range(2)]
    start = threading.Barrier(2)
    results = []

    def run(p) -> None:
        start.wait()
        results.append(renew_credits(p, batch_size=7, message_id=f"run-{id(p)}"))

    threads = [threading.Thread(target=run, args=(p,)) for p in pools]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
    finally:
        for p in pools:
            p.close()
    assert len(results) == 2
    assert sum(r.renewed for r in results) == len(users)
    assert all(r.renewed > 0 for r in results), "both runs should have shared the work"
    per_user = {r["user_id"]: r["n"] for r in conn.execute(
        "SELECT user_id, count(*) AS n FROM credit_transactions WHERE type = 'subscription_renewal' GROUP BY user_id")}
    assert per_user == {u: 1 for u in users}
    assert one(conn, "SELECT count(*) FROM user_subscriptions WHERE current_period_end <= now()") == 0


def test_a_crash_mid_batch_then_a_retry_grants_each_user_once(conn, pool):
    """A failure inside the second batch rolls that batch back whole; the retry finishes the
    job without granting the first batch again."""
    users = [subscribe(conn, ends=f"now() - interval '{100 - i} minutes'") for i in range(25)]
    doomed = users[13]  # renewed in the second batch of 10 (oldest period end first)
    conn.execute(f"""
        CREATE FUNCTION test_crash() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.user_id = '{doomed}' THEN RAISE EXCEPTION 'worker crashed mid-batch'; END IF;
            RETURN NEW;
        END $$;
        CREATE TRIGGER test_crash BEFORE INSERT ON credit_transactions
            FOR EACH ROW EXECUTE FUNCTION test_crash();""")
    try:
        with pytest.raises(psycopg.errors.RaiseException, match="worker crashed mid-batch"):
            renew_credits(pool, batch_size=10, message_id="first")
        granted = {r["user_id"] for r in conn.execute("SELECT user_id FROM credit_transactions").fetchall()}
        assert granted == set(users[:10]), "the first batch commits, the second rolls back whole"
        assert one(conn, "SELECT count(*) FROM user_subscriptions WHERE current_period_end <= now()") == 15
    finally:
        conn.execute("DROP TRIGGER test_crash ON credit_transactions; DROP FUNCTION test_crash()")

    retry = renew_credits(pool, batch_size=10, message_id="retry")

    assert retry.renewed == 15
    counts = {r["user_id"]: r["n"] for r in conn.execute(
        "SELECT user_id, count(*) AS n FROM credit_transactions GROUP BY user_id").fetchall()}
    assert counts == {u: 1 for u in users}
    assert one(conn, "SELECT count(*) FROM flashflow_credit_renewals") == 25
