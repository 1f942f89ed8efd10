"""expire_assignments over N expired assignments, against raw SQL on the same rows, in the same
run and database:

* `raw UPDATE`: one UPDATE clearing the assignment columns (the issue's yardstick; it writes
  no events and no notifications);
* `raw same writes`: one unbatched statement doing what the job does (clear, video_events,
  notifications), so the cost of batching and of the job's own code shows on its own.

    .venv/bin/python -m bench.bench_expire_assignments [--rows 100000] [--batch-size 5000] [--rounds 2]

Each method runs on freshly prepared, identical, vacuumed rows; the best of the rounds is
reported, with ratios to the job.
"""

from __future__ import annotations

import argparse
import time

import psycopg

from bench.common import print_comparison, scratch_settings, timed_statement
from flashflow_core.assignments.expiry import expire_assignments
from flashflow_core.db.pool import make_pool

RAW_UPDATE = """
UPDATE public.videos
SET assignment_state = 'AVAILABLE', assigned_to = NULL, assigned_at = NULL,
    assigned_role = NULL, assigned_expires_at = NULL
WHERE assignment_state = 'ASSIGNED' AND assigned_expires_at <= now()
"""

RAW_SAME_WRITES = """
WITH expired AS (
    UPDATE public.videos AS v
    SET assignment_state = 'AVAILABLE', assigned_to = NULL, assigned_at = NULL,
        assigned_role = NULL, assigned_expires_at = NULL
    FROM public.videos AS old
    WHERE old.id = v.id AND old.assignment_state = 'ASSIGNED' AND old.assigned_expires_at <= now()
    RETURNING v.id, old.assigned_to, old.assigned_role, old.assigned_at, old.assigned_expires_at
), logged AS (
    INSERT INTO public.video_events (video_id, event_type, actor, payload)
    SELECT id, 'assignment_expired', 'system',
           jsonb_build_object('kind', 'assignment', 'previous_assignee', assigned_to, 'previous_role', assigned_role,
                              'assigned_at', assigned_at, 'expired_at', assigned_expires_at, 'correlation_id', 'raw')
    FROM expired
)
INSERT INTO public.notifications (user_id, type, video_id, payload)
SELECT assigned_to, 'assignment_expired', id,
       jsonb_build_object('kind', 'assignment', 'role', assigned_role, 'expired_at', assigned_expires_at,
                          'correlation_id', 'raw')
FROM expired WHERE assigned_to IS NOT NULL
"""


def prepare(url: str, rows: int) -> None:
    """Empty the tables, insert `rows` expired assignments (plus as many live ones), vacuum."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("TRUNCATE public.videos, public.video_events, public.notifications CASCADE")
        conn.execute("""INSERT INTO auth.users (id, email)
                        SELECT gen_random_uuid(), 'bench' || g || '@example.test' FROM generate_series(1, 1000) g
                        ON CONFLICT DO NOTHING""")
        conn.execute("""
            INSERT INTO public.videos (assignment_state, assigned_to, assigned_role, assigned_at, assigned_expires_at)
            SELECT 'ASSIGNED', u.id, (ARRAY['recorder', 'editor', 'uploader'])[1 + g %% 3],
                   now() - interval '3 hours', now() - (g %% 3600) * interval '1 second'
                     - CASE WHEN g <= %(rows)s THEN interval '1 minute' ELSE interval '-2 hours' END
            FROM generate_series(1, %(rows)s * 2) AS g
            JOIN (SELECT id, row_number() OVER () - 1 AS n FROM auth.users) AS u ON u.n = g %% 1000
        """, {"rows": rows})
        conn.execute("VACUUM ANALYZE public.videos, public.video_events, public.notifications")


def timed_job(settings, batch_size: int) -> tuple[float, int]:
    pool = make_pool(settings, name="bench-expire")
    try:
        start = time.perf_counter()
        result = expire_assignments(pool, batch_size=batch_size, message_id="bench")
        return time.perf_counter() - start, result.assignments
    finally:
        pool.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    with scratch_settings() as settings:
        url = settings.database_url
        times: dict[str, list[float]] = {"job": [], "raw UPDATE": [], "raw same writes": []}
        for _ in range(args.rounds):
            for method in times:
                prepare(url, args.rows)
                if method == "job":
                    seconds, count = timed_job(settings, args.batch_size)
                else:
                    seconds, count = timed_statement(url, RAW_UPDATE if method == "raw UPDATE" else RAW_SAME_WRITES)
                assert count == args.rows, f"{method} expired {count} rows, expected {args.rows}"
                times[method].append(seconds)
        with psycopg.connect(url) as conn:
            server = conn.execute("SHOW server_version").fetchone()[0]

    print(f"expire_assignments, {args.rows:,} expired of {2 * args.rows:,} assigned videos, "
          f"batch size {args.batch_size}, best of {args.rounds} (PostgreSQL {server})")
    print_comparison(times, args.rows, "rows")


if __name__ == "__main__":
    main()
