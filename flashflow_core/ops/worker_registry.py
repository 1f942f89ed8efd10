"""The registry of `flashflow worker` processes in Redis: who is consuming, where, since when.

Each worker process records itself on every heartbeat (`jobs.middleware.heartbeat`): a hash with
its id (the broker id Dramatiq uses for its ack sets), host, pid, FlashFlow version, queues,
threads, start time and last beat, and its last beat in a sorted set. A clean stop removes it; a
worker that dies stays FORGET_AFTER_TIMEOUTS heartbeat timeouts, so the console can show it as
silent with its host and pid. Producers (`flashflow enqueue`, the web app) never write it,
so `flashflow_workers_alive` and the console count worker processes only (Dramatiq's own
heartbeat set also holds every process that ever sent a message). Keys: `redis_keys.workers`,
`redis_keys.worker`.
"""

from __future__ import annotations

import importlib.metadata
import os
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import redis

from flashflow_core.ops import redis_keys

# Entries silent this many heartbeat timeouts are forgotten: their hashes expire and the next beat of
# any worker drops them from the sorted set. Until then the console shows a worker that died recently.
FORGET_AFTER_TIMEOUTS = 10
# The console's table (and a registry read) stops at this many workers, most recent beat first.
MAX_ENTRIES = 200


def _version() -> str:
    try:
        return importlib.metadata.version("flashflow-workers")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


@dataclass(frozen=True)
class WorkerEntry:
    """One worker process as the registry describes it."""

    id: str
    queues: tuple[str, ...]
    threads: int
    host: str = field(default_factory=socket.gethostname)
    pid: int = field(default_factory=os.getpid)
    version: str = field(default_factory=_version)
    started_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    last_beat_ms: int = 0

    def beat_age_s(self, now_ms: int) -> float:
        """Seconds since this worker's last beat (never negative across hosts' clocks)."""
        return max(now_ms - self.last_beat_ms, 0) / 1000

    def fields(self, now_ms: int) -> dict[str, str]:
        return {"id": self.id, "host": self.host, "pid": str(self.pid), "version": self.version,
                "queues": ",".join(self.queues), "threads": str(self.threads), "started_at": self.started_at,
                "last_beat_ms": str(now_ms)}


def record(client: redis.Redis, namespace: str, entry: WorkerEntry, timeout_s: float) -> None:
    """A heartbeat of `entry`'s worker: refresh its hash and its score, forget long-dead workers."""
    now_ms = int(time.time() * 1000)
    key = redis_keys.worker(namespace, entry.id)
    with client.pipeline(transaction=True) as pipe:
        pipe.hset(key, mapping=entry.fields(now_ms))
        pipe.pexpire(key, int(FORGET_AFTER_TIMEOUTS * timeout_s * 1000))
        pipe.zadd(redis_keys.workers(namespace), {entry.id: now_ms})
        pipe.zremrangebyscore(redis_keys.workers(namespace), "-inf", now_ms - FORGET_AFTER_TIMEOUTS * timeout_s * 1000)
        pipe.execute()


def remove(client: redis.Redis, namespace: str, worker_id: str) -> None:
    """A worker stopping cleanly leaves the registry at once."""
    with client.pipeline(transaction=True) as pipe:
        pipe.delete(redis_keys.worker(namespace, worker_id))
        pipe.zrem(redis_keys.workers(namespace), worker_id)
        pipe.execute()


def alive_count(client: redis.Redis, namespace: str, timeout_s: float) -> int:
    """Worker processes that beat within `timeout_s`."""
    since_ms = int(time.time() * 1000 - timeout_s * 1000)
    return int(client.zcount(redis_keys.workers(namespace), since_ms, "+inf"))


def entries(client: redis.Redis, namespace: str) -> list[WorkerEntry]:
    """Every worker process the registry remembers, alive or recently silent, most recent beat
    first (at most MAX_ENTRIES); `beat_age_s` tells which is which."""
    ids = [i.decode() for i in client.zrevrange(redis_keys.workers(namespace), 0, MAX_ENTRIES - 1)]
    return [entry for entry in _entries(client, namespace, ids) if entry is not None]


def _entries(client: redis.Redis, namespace: str, ids: Iterable[str]) -> list[WorkerEntry | None]:
    ids = list(ids)
    with client.pipeline(transaction=False) as pipe:
        for worker_id in ids:
            pipe.hgetall(redis_keys.worker(namespace, worker_id))
        hashes = pipe.execute()
    return [_entry({k.decode(): v.decode() for k, v in raw.items()}) if raw else None for raw in hashes]


def _entry(raw: dict[str, str]) -> WorkerEntry:
    return WorkerEntry(id=raw["id"], queues=tuple(q for q in raw.get("queues", "").split(",") if q),
                       threads=int(raw.get("threads") or 0), host=raw.get("host", ""), pid=int(raw.get("pid") or 0),
                       version=raw.get("version", ""), started_at=raw.get("started_at", ""),
                       last_beat_ms=int(raw.get("last_beat_ms") or 0))
