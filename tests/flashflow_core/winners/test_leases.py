"""The lease keeper on real Postgres: live attempts' leases are renewed, an attempt whose row was taken
over (a newer token) learns it at once, and nothing is renewed after its attempt or past its bound."""

from __future__ import annotations

import time
from uuid import UUID

import pytest

from flashflow_core.winners.leases import TAKEN_OVER, LeaseKeeper

pytestmark = pytest.mark.timeout(60)


def _row(conn, token: int, lease_s: float = 1.0) -> UUID:
    return conn.execute(
        "INSERT INTO reference_videos (url, submitted_by, status, lease_until, lease_message_id, lease_token) "
        "VALUES (%s, 'test', 'needs_file', now() + make_interval(secs => %s), 'm', %s) RETURNING id",
        (f"https://example.com/{time.monotonic_ns()}.mp4", lease_s, token)).fetchone()["id"]


def _lease_left_s(conn, reference_id: UUID) -> float:
    return conn.execute("SELECT extract(epoch FROM lease_until - now()) AS s FROM reference_videos WHERE id = %s",
                        (reference_id,)).fetchone()["s"]


def test_a_live_attempt_keeps_its_lease_and_learns_when_it_is_taken_over(pool, conn):
    rid = _row(conn, token=7)
    keeper = LeaseKeeper(pool, lease_s=30)
    try:
        with keeper.hold(rid, 7, bound_s=60) as held:
            keeper.renew_now()
            assert 29 < _lease_left_s(conn, rid) <= 30 and held.lost() is None
            conn.execute("UPDATE reference_videos SET lease_token = 8, lease_until = now() + interval '5 s' "
                         "WHERE id = %s", (rid,))  # another claim took the row
            keeper.renew_now()
            assert held.lost() == TAKEN_OVER
            assert _lease_left_s(conn, rid) <= 5, "the newer attempt's lease was touched"
    finally:
        keeper.close()


def test_nothing_is_renewed_after_the_attempt_or_past_its_bound(pool, conn):
    ended, bounded, finished = _row(conn, token=1), _row(conn, token=1), _row(conn, token=1)
    conn.execute("UPDATE reference_videos SET lease_until = NULL WHERE id = %s", (finished,))
    keeper = LeaseKeeper(pool, lease_s=30)
    try:
        with keeper.hold(ended, 1, bound_s=60):
            pass
        with keeper.hold(bounded, 1, bound_s=0), keeper.hold(finished, 1, bound_s=60) as done:
            keeper.renew_now()
            assert done.lost() == TAKEN_OVER  # its lease was given back: nothing left to keep
        assert _lease_left_s(conn, ended) < 2 and _lease_left_s(conn, bounded) < 2
        assert conn.execute("SELECT lease_until FROM reference_videos WHERE id = %s",
                            (finished,)).fetchone()["lease_until"] is None
    finally:
        keeper.close()


def test_the_keeper_renews_by_itself_every_third_of_the_lease(pool, conn):
    rid = _row(conn, token=3, lease_s=3)
    keeper = LeaseKeeper(pool, lease_s=3)
    try:
        with keeper.hold(rid, 3, bound_s=60) as held:
            time.sleep(4)  # longer than the lease
            assert _lease_left_s(conn, rid) > 1 and held.lost() is None
    finally:
        keeper.close()
