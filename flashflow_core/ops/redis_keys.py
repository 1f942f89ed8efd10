"""Every Redis key FlashFlow reads or writes, in one place.

Dramatiq's Redis broker (2.2.1, `dramatiq/brokers/redis/dispatch.lua`) keeps, under its
namespace (FLASHFLOW_BROKER_NAMESPACE, default `dramatiq`):

    <ns>:<queue>                     list of waiting message ids
    <ns>:<queue>.msgs                hash: message id -> payload (waiting and in flight)
    <ns>:<queue>.DQ / .DQ.msgs       the delay queue of <queue>, same shape
    <ns>:<queue>.XQ / .XQ.msgs       dead letters: sorted set of ids by time of death, and payloads
    <ns>:__acks__.<worker>.<queue>   set of ids a worker has taken and not yet acked
    <ns>:__heartbeats__              sorted set: broker id -> last heartbeat (ms)

FlashFlow's own keys live under `flashflow:` so a flush of the broker namespace leaves them.
Anything that builds one of these names imports it from here.
"""

from __future__ import annotations

from dataclasses import dataclass

FLASHFLOW_NS = "flashflow"
DELAY_SUFFIX = ".DQ"
DEAD_SUFFIX = ".XQ"
MSGS_SUFFIX = ".msgs"


def delay_queue(queue: str) -> str:
    """The name of `queue`'s delay queue (Dramatiq's `dq_name`)."""
    return queue if queue.endswith(DELAY_SUFFIX) else queue + DELAY_SUFFIX


def base_queue(queue: str) -> str:
    """The queue a delay or dead-letter queue name belongs to (Dramatiq's `q_name`)."""
    for suffix in (DELAY_SUFFIX, DEAD_SUFFIX):
        if queue.endswith(suffix):
            return queue[: -len(suffix)]
    return queue


@dataclass(frozen=True)
class BrokerKeys:
    """Dramatiq's keys under one broker namespace."""

    namespace: str = "dramatiq"

    def queue(self, queue: str) -> str:
        """List of waiting message ids."""
        return f"{self.namespace}:{queue}"

    def messages(self, queue: str) -> str:
        """Hash of message id -> payload for the messages of `queue`."""
        return f"{self.namespace}:{queue}{MSGS_SUFFIX}"

    def dead(self, queue: str) -> str:
        """Sorted set of dead-lettered ids of `queue`, scored by time of death (ms)."""
        return f"{self.namespace}:{base_queue(queue)}{DEAD_SUFFIX}"

    def dead_messages(self, queue: str) -> str:
        """Hash of dead-lettered id -> payload."""
        return self.dead(queue) + MSGS_SUFFIX

    def acks(self, worker_id: str, queue: str) -> str:
        """Set of ids `worker_id` has taken from `queue` and not acked."""
        return f"{self.namespace}:__acks__.{worker_id}.{queue}"

    @property
    def heartbeats(self) -> str:
        """Sorted set of broker id -> last heartbeat; producers write it too (Dramatiq does)."""
        return f"{self.namespace}:__heartbeats__"

    @property
    def dead_pattern(self) -> str:
        """SCAN pattern matching every dead-letter set."""
        return f"{self.namespace}:*{DEAD_SUFFIX}"

    @property
    def messages_pattern(self) -> str:
        """SCAN pattern matching every payload hash (queues, delay queues, dead letters)."""
        return f"{self.namespace}:*{MSGS_SUFFIX}"

    def queue_of(self, key: str | bytes) -> str | None:
        """The queue a `<ns>:<queue>[.DQ|.XQ][.msgs]` key belongs to; None for other keys."""
        name = key.decode() if isinstance(key, bytes) else key
        prefix = f"{self.namespace}:"
        if not name.startswith(prefix):
            return None
        name = base_queue(name[len(prefix):].removesuffix(MSGS_SUFFIX))
        return None if name.startswith("__") else name


def workers(namespace: str) -> str:
    """Sorted set of the `flashflow worker` processes of a broker namespace: worker id -> last beat
    (ms). Only worker processes write it (Dramatiq's heartbeats also hold producers)."""
    return f"{FLASHFLOW_NS}:workers:{namespace}"


def worker(namespace: str, worker_id: str) -> str:
    """Hash describing one worker process (id, host, pid, version, queues, threads, started, last
    beat); it expires some heartbeat timeouts after the worker stops beating."""
    return f"{FLASHFLOW_NS}:worker:{namespace}:{worker_id}"


def paused_queues(namespace: str) -> str:
    """Hash of the paused queues of a broker namespace: queue -> JSON {by, at}. It has no TTL, so a
    pause outlives worker and (with AOF) Redis restarts until someone resumes the queue."""
    return f"{FLASHFLOW_NS}:paused-queues:{namespace}"


def site_paused(site: str) -> str:
    """Set (with a TTL) while fetches from `site` are paused because it throttled us."""
    return f"{FLASHFLOW_NS}:site-paused:{site}"


def site_slots(site: str) -> str:
    """Key of Dramatiq's concurrent rate limiter holding `site`'s download slots."""
    return f"{FLASHFLOW_NS}:fetch:{site}"
