"""A Redis consumer that never lets one bad payload stop a queue.

It fetches (id, payload) pairs with its own small script, so each payload is known by the key it
is stored under even when it does not decode; a payload `jobs.poison.check_message` rejects goes
to the queue's dead-letter set (`<queue>.XQ`) with its reason, and the rest of the batch runs.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

import redis
from dramatiq.broker import MessageProxy
from dramatiq.brokers.redis import _RedisConsumer
from dramatiq.common import compute_backoff

from flashflow_core.ops import metrics
from flashflow_core.ops.dlq import DeadLetter, payload_excerpt
from flashflow_core.ops.redis_keys import base_queue
from jobs.poison import PoisonMessage, check_message

if TYPE_CHECKING:
    from jobs.broker import FlashflowBroker

log = logging.getLogger(__name__)

# Dramatiq's "fetch" (dispatch.lua) returns payloads without their ids. This one keeps its key
# layout (flashflow_core.ops.redis_keys) and heartbeat, returns id/payload pairs, and drops an id
# whose payload is missing from the ack set at once (Dramatiq would leave it there until the
# worker stops), and takes nothing from a paused queue (flashflow_core.ops.queue_pause): the pause
# is checked in the same call, so it costs no round trip. KEYS: heartbeats, queue, its payload
# hash, this worker's ack set, the paused-queues hash; ARGV: worker id, time, count, base queue.
FETCH_PAIRS_LUA = """
local heartbeats, queue, msgs, acks, paused = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local worker_id, timestamp, count, base = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
redis.call("zadd", heartbeats, timestamp, worker_id)
if redis.call("hexists", paused, base) == 1 then return {} end
local out = {}
for i = 1, count do
    local id = redis.call("lpop", queue)
    if not id then break end
    local data = redis.call("hget", msgs, id)
    if data then redis.call("sadd", acks, id) end
    out[#out + 1] = id
    out[#out + 1] = data
end
return out
"""


class GuardedConsumer(_RedisConsumer):
    """Dramatiq's Redis consumer, with decoding that dead-letters instead of raising."""

    broker: FlashflowBroker

    def __next__(self) -> MessageProxy | None:
        watch = self.broker.redis_watch
        if not watch.up:  # Redis is away: wait quietly (a second at a time, so the worker can stop)
            watch.wait(1.0)
            return None
        try:
            while True:
                if self.message_cache:
                    redis_id, data = self.message_cache.pop(0)
                    self.misses = 0
                    try:
                        message = check_message(data, redis_id, self.queue_name, self.broker)
                    except PoisonMessage as poison:
                        self._dead_letter(redis_id, data, poison)
                        continue
                    except Exception as exc:  # never let one payload stop the consumer and strand its batch
                        log.exception("payload check failed", extra={"queue": self.queue_name,
                                                                     "redis_message_id": redis_id})
                        self._dead_letter(redis_id, data, PoisonMessage("internal", f"checking it failed: {exc!r}"))
                        continue
                    self.queued_message_ids.add(message.message_id)
                    return MessageProxy(message)
                fetched: list[tuple[str, bytes | None]] = []
                if self.outstanding_message_count < self.prefetch:
                    fetched = self.broker.fetch_pairs(self.queue_name, self.prefetch - self.outstanding_message_count)
                    self.message_cache = fetched
                if not fetched:
                    self.misses, backoff_ms = compute_backoff(self.misses, max_backoff=self.timeout)
                    time.sleep(backoff_ms / 1000)
                    return None
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            # Reported once for the whole process; the consumer waits above instead of Dramatiq
            # restarting it every 3 s with two log lines each time.
            watch.lost(exc)
            return None

    def _dead_letter(self, redis_id: str, data: bytes | None, poison: PoisonMessage) -> None:
        if data is not None:
            self.broker.do_nack(self.queue_name, redis_id)
        letter = DeadLetter(
            queue=base_queue(self.queue_name), redis_message_id=redis_id, kind=poison.kind, reason=poison.reason,
            message_id=poison.fields.get("message_id"), actor_name=poison.fields.get("actor_name"),
            payload=payload_excerpt(data), stored=data is not None,
        )
        log.warning("poison message dead-lettered", extra={
            "queue": letter.queue, "redis_message_id": redis_id, "kind": poison.kind, "reason": poison.reason,
            "message_id": letter.message_id, "actor": letter.actor_name})
        metrics.POISON.labels(queue=letter.queue, kind=poison.kind).inc()
        self.broker.record_dead_letter(letter)
