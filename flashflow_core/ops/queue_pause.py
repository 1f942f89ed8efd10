"""Pausing and resuming a queue: workers stop taking its messages until it is resumed.

A pause is one field in a Redis hash (`redis_keys.paused_queues`), read by the worker's fetch
script in the same call that takes messages (`jobs.consumer.FETCH_PAIRS_LUA`), so a paused queue
costs no extra round trip and is honoured by every worker, including ones started later. Its
messages stay in the queue (waiting) and run once it is resumed. Each pause and resume is audited.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

import psycopg
import redis

from flashflow_core.db.audit import new_correlation_id, write_audit
from flashflow_core.ops.redis_keys import base_queue, paused_queues


@dataclass(frozen=True)
class Pause:
    """Who paused a queue, and when."""

    queue: str
    by: str
    since: datetime | None


class QueuePauses:
    """The paused queues of one broker namespace."""

    def __init__(self, client: redis.Redis, namespace: str = "dramatiq") -> None:
        self.client = client
        self.key = paused_queues(namespace)

    def pause(self, queue: str, actor: str) -> bool:
        """Pause `queue`; False when it was paused already (the first pause is kept)."""
        record = json.dumps({"by": actor, "at": datetime.now(UTC).isoformat()})
        return bool(self.client.hsetnx(self.key, base_queue(queue), record))

    def resume(self, queue: str) -> bool:
        """Resume `queue`; False when it was not paused."""
        return bool(self.client.hdel(self.key, base_queue(queue)))

    def paused(self) -> dict[str, Pause]:
        """{queue: its pause} for every paused queue."""
        found = {}
        for name, raw in self.client.hgetall(self.key).items():
            queue = name.decode()
            try:
                record = json.loads(raw)
                since = datetime.fromisoformat(record["at"])
                by = str(record["by"])
            except (ValueError, KeyError, TypeError):  # set by hand: still a pause
                since, by = None, "?"
            found[queue] = Pause(queue, by, since)
        return found


def pause_queue(pauses: QueuePauses, conn: psycopg.Connection, queue: str, actor: str) -> bool:
    """Pause `queue` and audit it (`queue.paused`); False, and no audit row, when already paused."""
    if not pauses.pause(queue, actor):
        return False
    _audit(conn, "queue.paused", queue, actor, f"{queue} paused: workers take none of its messages until resumed")
    return True


def resume_queue(pauses: QueuePauses, conn: psycopg.Connection, queue: str, actor: str) -> bool:
    """Resume `queue` and audit it (`queue.resumed`); False, and no audit row, when it was not paused."""
    if not pauses.resume(queue):
        return False
    _audit(conn, "queue.resumed", queue, actor, f"{queue} resumed")
    return True


def _audit(conn: psycopg.Connection, event_type: str, queue: str, actor: str, summary: str) -> None:
    write_audit(conn, correlation_id=new_correlation_id(), event_type=event_type, entity_type="queue",
                entity_id=queue, summary=summary, details={"queue": queue}, actor=actor)
