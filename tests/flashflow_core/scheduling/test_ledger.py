"""The fire ledger and the leader lock, on the real database."""

from __future__ import annotations

import threading
from datetime import datetime, timezone

import psycopg

from flashflow_core.scheduling.ledger import LeaderLock, claim_fire, last_fires, leader, prune_fires, recent_fires
from tests.flashflow_core.job_rows import one

TICK = datetime(2026, 11, 26, 12, 0, tzinfo=timezone.utc)


def test_a_tick_is_claimed_once(conn):
    assert claim_fire(conn, schedule="s", fire_time=TICK, actor="a", message_id="m1", scheduler="one")
    assert not claim_fire(conn, schedule="s", fire_time=TICK, actor="a", message_id="m2", scheduler="two")
    assert claim_fire(conn, schedule="other", fire_time=TICK, actor="a", message_id="m3", scheduler="two")
    assert last_fires(conn)["s"]["message_id"] == "m1"


def test_a_concurrent_claim_waits_for_the_first_and_gets_nothing(db_url):
    """The second claimer blocks on the uncommitted key, then finds the row: no double send,
    even while the first transaction is still sending."""
    first = psycopg.connect(db_url)
    claimed_second: list[bool] = []
    try:
        assert claim_fire(first, schedule="s", fire_time=TICK, actor="a", message_id="m1", scheduler="one")

        def second() -> None:
            with psycopg.connect(db_url) as conn, conn.transaction():
                claimed_second.append(claim_fire(conn, schedule="s", fire_time=TICK, actor="a",
                                                 message_id="m2", scheduler="two"))

        thread = threading.Thread(target=second)
        thread.start()
        thread.join(1.0)
        assert thread.is_alive(), "the second claim should wait for the first transaction"
        first.commit()
        thread.join(10)
        assert claimed_second == [False]
    finally:
        first.close()


def test_a_failed_send_leaves_the_tick_free(conn, db_url):
    """The claim and the send share a transaction: when the send fails, the tick is unclaimed."""
    with psycopg.connect(db_url) as other:
        try:
            with other.transaction():
                assert claim_fire(other, schedule="s", fire_time=TICK, actor="a", message_id="m1", scheduler="one")
                raise ConnectionError("redis unreachable")
        except ConnectionError:
            pass
    assert one(conn, "SELECT count(*) FROM flashflow_schedule_fires") == 0
    assert claim_fire(conn, schedule="s", fire_time=TICK, actor="a", message_id="m2", scheduler="two")


def test_prune_keeps_recent_rows(conn):
    claim_fire(conn, schedule="s", fire_time=TICK, actor="a", message_id="m1", scheduler="one")
    conn.execute("UPDATE flashflow_schedule_fires SET enqueued_at = now() - interval '40 days'")
    claim_fire(conn, schedule="s", fire_time=datetime(2026, 11, 26, 12, 5, tzinfo=timezone.utc), actor="a",
               message_id="m2", scheduler="one")
    assert prune_fires(conn, 30 * 86400) == 1
    assert one(conn, "SELECT message_id FROM flashflow_schedule_fires") == "m2"


def test_one_leader_at_a_time_and_the_lock_goes_with_the_session(db_url):
    a, b = LeaderLock(db_url, key=42_4242), LeaderLock(db_url, key=42_4242)
    try:
        assert a.try_acquire()
        assert not b.try_acquire()
        assert a.still_held()
        a.release()
        assert not a.still_held()
        assert b.try_acquire()
        # A leader whose session dies (crash, network) loses the lock to the standby.
        b._conn.close()  # noqa: SLF001 - simulating the session ending
        assert not b.still_held()
        assert a.try_acquire()
    finally:
        a.release()
        b.release()


def test_leader_names_the_session_holding_the_lock_and_recent_fires_are_newest_first(conn, db_url):
    key = (7 << 32) + 4_000_000_001  # high and low halves both used, low one above 2**31
    lock = LeaderLock(db_url, key=key, identity="host-a:4242")
    try:
        assert leader(conn, key) is None
        assert lock.try_acquire()
        found = leader(conn, key)
        assert found is not None and found["application_name"] == "flashflow-scheduler host-a:4242"
        assert leader(conn, key + 1) is None
    finally:
        lock.release()
    assert leader(conn, key) is None

    for minute in range(4):
        claim_fire(conn, schedule="s", fire_time=TICK.replace(minute=minute), actor="a", message_id=f"m{minute}",
                   scheduler="one")
    claim_fire(conn, schedule="t", fire_time=TICK, actor="a", message_id="t0", scheduler="one")
    fires = recent_fires(conn, per_schedule=2)
    assert {name: [f["message_id"] for f in rows] for name, rows in fires.items()} == {"s": ["m3", "m2"], "t": ["t0"]}
