"""renew_credits over N due subscriptions, against one raw SQL statement doing the same updates
(move each subscription one period on, reset its balance to the plan's credits, write the
`subscription_renewal` transaction with the right balance_after), in the same run and database.

    .venv/bin/python -m bench.bench_renew_credits [--rows 100000] [--batch-size 500] [--rounds 2]

The raw statement is the floor: it skips what makes the job safe (SKIP LOCKED batches, the
per-period renewal ledger) and inlines what `reset_monthly_credits` does per user. Each method
runs on freshly prepared, identical, vacuumed rows; renewals per second and the ratio are printed.
"""

from __future__ import annotations

import argparse
import time

import psycopg

from bench.common import print_comparison, scratch_settings, timed_statement
from flashflow_core.credits.renewal import renew_credits
from flashflow_core.db.pool import make_pool

RAW = """
WITH moved AS (
    UPDATE public.user_subscriptions AS s
    SET current_period_start = s.current_period_end,
        current_period_end = s.current_period_end
            + CASE s.billing_period WHEN 'yearly' THEN interval '1 year' ELSE interval '1 month' END
    WHERE s.status IN ('active', 'trialing') AND s.current_period_end <= now()
    RETURNING s.user_id, s.plan_id, s.current_period_start, s.current_period_end
), credited AS (
    UPDATE public.user_credits AS c
    SET credits_remaining = p.credits_per_month, credits_used_this_period = 0,
        period_start = m.current_period_start, period_end = m.current_period_end
    FROM moved AS m
    JOIN public.subscription_plans AS p ON p.id = m.plan_id
    JOIN public.user_credits AS old ON old.user_id = m.user_id
    WHERE c.user_id = m.user_id
    RETURNING c.user_id, p.id AS plan_id, old.credits_remaining AS previous, c.credits_remaining AS balance,
              c.period_start, c.period_end
)
INSERT INTO public.credit_transactions (user_id, type, amount, balance_after, description, metadata)
SELECT user_id, 'subscription_renewal', balance - previous, balance, 'monthly credits of plan ' || plan_id,
       jsonb_build_object('plan_id', plan_id, 'previous_balance', previous,
                          'period_start', period_start, 'period_end', period_end)
FROM credited
"""


def prepare(url: str, rows: int) -> None:
    """`rows` users with a due subscription (a mix of plans, 1 in 10 yearly) and a balance."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("""TRUNCATE auth.users, public.user_subscriptions, public.user_credits,
                        public.credit_transactions, public.flashflow_credit_renewals CASCADE""")
        conn.execute("""INSERT INTO auth.users (id, email)
                        SELECT gen_random_uuid(), 'bench' || g || '@example.test'
                        FROM generate_series(1, %(rows)s) AS g""", {"rows": rows})
        conn.execute("""
            INSERT INTO public.user_credits (user_id, credits_remaining, credits_used_this_period)
            SELECT id, 3, 40 FROM auth.users;
            INSERT INTO public.user_subscriptions
                (user_id, plan_id, status, billing_period, current_period_start, current_period_end)
            SELECT id, (ARRAY['starter', 'pro', 'team'])[1 + n % 3],
                   CASE WHEN n % 20 = 0 THEN 'trialing' ELSE 'active' END,
                   CASE WHEN n % 10 = 0 THEN 'yearly' ELSE 'monthly' END,
                   now() - interval '1 month' - (n % 3000) * interval '1 second',
                   now() - (n % 3000) * interval '1 second' - interval '1 minute'
            FROM (SELECT id, row_number() OVER () AS n FROM auth.users) AS u
        """)
        conn.execute("VACUUM ANALYZE auth.users, public.user_subscriptions, public.user_credits, "
                     "public.credit_transactions, public.flashflow_credit_renewals")


def timed_job(settings, batch_size: int) -> tuple[float, int]:
    pool = make_pool(settings, name="bench-renew")
    try:
        start = time.perf_counter()
        result = renew_credits(pool, batch_size=batch_size, message_id="bench")
        return time.perf_counter() - start, result.renewed
    finally:
        pool.close()


def check(url: str, rows: int) -> None:
    """Both methods must leave one renewal transaction per user with the plan's balance."""
    with psycopg.connect(url) as conn:
        wrong = conn.execute("""
            SELECT count(*) FROM public.user_credits AS c
            JOIN public.user_subscriptions AS s USING (user_id)
            JOIN public.subscription_plans AS p ON p.id = s.plan_id
            WHERE c.credits_remaining <> p.credits_per_month OR s.current_period_end <= now()
               OR (SELECT count(*) FROM public.credit_transactions AS t
                   WHERE t.user_id = c.user_id AND t.type = 'subscription_renewal'
                     AND t.balance_after = p.credits_per_month) <> 1
        """).fetchone()[0]
    assert wrong == 0, f"{wrong} of {rows} users were not renewed exactly once"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    with scratch_settings() as settings:
        url = settings.database_url
        times: dict[str, list[float]] = {"job": [], "raw SQL": []}
        for _ in range(args.rounds):
            for method in times:
                prepare(url, args.rows)
                seconds, count = timed_job(settings, args.batch_size) if method == "job" else timed_statement(url, RAW)
                assert count == args.rows, f"{method} renewed {count}, expected {args.rows}"
                check(url, args.rows)
                times[method].append(seconds)
        with psycopg.connect(url) as conn:
            server = conn.execute("SHOW server_version").fetchone()[0]

    print(f"renew_credits, {args.rows:,} due subscriptions, batch size {args.batch_size}, "
          f"best of {args.rounds} (PostgreSQL {server})")
    print_comparison(times, args.rows, "renewals")


if __name__ == "__main__":
    main()
