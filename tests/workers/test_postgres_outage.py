"""Postgres goes away under a running `flashflow worker` (its connections dropped and new ones
refused, through a proxy the test cuts; the shared server is untouched) while a stage message
arrives: the worker logs a few lines, not hundreds, and the row reaches `ready` once Postgres
answers again."""

from __future__ import annotations

import json
import time
import uuid

import psycopg
import pytest
from dramatiq import Message
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import dict_row

from jobs.broker import build_broker
from tests.redis_server import PrivateRedis
from tests.tcp_proxy import TcpProxy
from tests.workers.processes import Workers, worker_env
from tests.workers.test_redis_outage import _wait

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

OUTAGE_S = 8.0


def test_a_worker_rides_out_a_postgres_restart(db_url, settings, tmp_path):
    info = conninfo_to_dict(db_url)
    proxy = TcpProxy((info.get("host", "127.0.0.1"), int(info.get("port", 5432))))
    proxy.restore()
    redis_server = PrivateRedis(tmp_path / "redis")
    redis_server.start()
    proxied = f"postgresql://{info.get('user', 'postgres')}@127.0.0.1:{proxy.port}/{info['dbname']}"
    group = Workers(worker_env(settings.model_copy(update={"database_url": proxied, "redis_url": redis_server.url}),
                               tmp_path, FLASHFLOW_TOOLKIT="instant"), tmp_path)
    worker = group.start()
    producer = build_broker(settings.model_copy(update={"redis_url": redis_server.url}))
    try:
        _wait(lambda: '"worker started"' in group.log_of(worker), 60, "the worker started")
        reference_id = uuid.uuid4()
        with psycopg.connect(db_url, autocommit=True, row_factory=dict_row) as conn:
            # A row whose fetch message is on its way (it has its run, so the intake leaves it alone).
            conn.execute("INSERT INTO reference_videos (id, url, submitted_by, correlation_id) "
                         "VALUES (%s, 'https://www.tiktok.com/@shop/video/7350000000000000001', 'cli', 'run-1')",
                         (reference_id,))
            before = len(group.log_of(worker).splitlines())
            proxy.cut()
            producer.declare_queue("fetch")
            producer.enqueue(Message(queue_name="fetch", actor_name="fetch_reference", args=(str(reference_id),),
                                     kwargs={}, options={}))
            time.sleep(OUTAGE_S)
            during = group.log_of(worker).splitlines()[before:]
            proxy.restore()
            took = _wait(lambda: conn.execute("SELECT status FROM reference_videos WHERE id = %s",
                                              (reference_id,)).fetchone()["status"] == "ready", 90,
                         "the row ready after Postgres came back")
        print(f"{len(during)} log lines in the {OUTAGE_S:.0f} s outage; row ready {took:.1f} s after Postgres came back")
        events = [json.loads(line) for line in during if line.startswith("{")]
        assert len(during) <= 30, during  # 14 measured: the listener and the pool, once per reconnect attempt
        assert not [e for e in events if e["level"] == "critical"], during
    finally:
        producer.close()
        group.stop_all()
        proxy.cut()
        redis_server.stop()
