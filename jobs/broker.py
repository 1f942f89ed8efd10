"""Builds the Dramatiq Redis broker from settings (`jobs.boot` calls it; nothing else should).

The broker is Dramatiq's RedisBroker with three changes: a consumer that dead-letters payloads
it cannot run instead of restarting and takes nothing from a paused queue (`jobs.consumer`,
`flashflow_core.ops.queue_pause`), a dead-letter hook that records why in
`audit_log`, and maintenance (returning a dead worker's unacked messages to their queues) run
on every queue every few seconds by each worker, not only on a random 0.1 % of broker calls.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from dramatiq.brokers.redis import RedisBroker
from dramatiq.common import current_millis
from dramatiq.middleware import CurrentMessage

from flashflow_core.config import Settings
from flashflow_core.ops import outages
from flashflow_core.ops.dlq import DeadLetter
from flashflow_core.ops.redis_keys import BrokerKeys, base_queue, paused_queues
from jobs.consumer import FETCH_PAIRS_LUA, GuardedConsumer
from jobs.reconnect import ServerWatch

log = logging.getLogger(__name__)

DAY_MS = 86_400_000


class FlashflowBroker(RedisBroker):
    """RedisBroker with a poison-proof consumer, deterministic maintenance and a dead-letter hook."""

    def __init__(self, *, on_dead_letter: Callable[[DeadLetter], None] | None = None, **kwargs: object) -> None:
        super().__init__(**kwargs)
        url = str(kwargs.get("url") or "")
        # Consumers, the heartbeat and the intake report connection errors here (jobs/reconnect.py).
        self.redis_watch = ServerWatch("Redis", lambda: outages.check_redis(url),
                                       lambda exc: str(outages.redis_unavailable(url, exc.__cause__ or exc)))
        self.keys = BrokerKeys(self.namespace)
        self.paused_key = paused_queues(self.namespace)
        self.on_dead_letter = on_dead_letter
        self._fetch_pairs = self.client.register_script(FETCH_PAIRS_LUA)

    @property
    def consumer_class(self) -> type[GuardedConsumer]:
        return GuardedConsumer

    def fetch_pairs(self, queue_name: str, count: int) -> list[tuple[str, bytes | None]]:
        """Move up to `count` ids from the queue to this worker's ack set; return (id, payload) pairs.
        Nothing while the queue (or, for a delay queue, its base queue) is paused."""
        keys = self.keys
        flat = self._fetch_pairs(
            keys=[keys.heartbeats, keys.queue(queue_name), keys.messages(queue_name),
                  keys.acks(self.broker_id, queue_name), self.paused_key],
            args=[self.broker_id, current_millis(), min(count, self._max_unpack_size()), base_queue(queue_name)])
        return [(flat[i].decode(), flat[i + 1] or None) for i in range(0, len(flat), 2)]

    def maintain(self, queue_name: str) -> None:
        """Send this worker's heartbeat and return dead workers' unacked messages of `queue_name`."""
        self.scripts["dispatch"](keys=[self.namespace], args=[
            "qsize", current_millis(), queue_name, self.broker_id, self.heartbeat_timeout,
            self.dead_message_ttl, 1, self._max_unpack_size()])

    def all_queue_names(self) -> set[str]:
        """Every declared queue and its delay queue."""
        return self.get_declared_queues() | self.get_declared_delay_queues()

    def record_dead_letter(self, letter: DeadLetter) -> None:
        """Hand a dead letter to the hook (an audit_log row); never raises."""
        if self.on_dead_letter is None:
            return
        try:
            self.on_dead_letter(letter)
        except Exception:
            log.exception("could not record a dead letter", extra={
                "queue": letter.queue, "redis_message_id": letter.redis_message_id, "reason": letter.reason})


def build_broker(settings: Settings) -> FlashflowBroker:
    """The Redis broker for these settings, with FlashFlow's middleware; no actors yet."""
    from jobs.middleware import standard_middleware
    from jobs.middleware.dead_letters import audit_dead_letter

    if not settings.redis_url:
        raise RuntimeError("REDIS_URL is not resolved; call ensure_services first")
    broker = FlashflowBroker(
        url=settings.redis_url,
        namespace=settings.broker_namespace,
        heartbeat_timeout=settings.heartbeat_timeout_s * 1000,
        maintenance_chance=settings.broker_maintenance_chance,
        dead_message_ttl=int(settings.dead_letter_ttl_days * DAY_MS),
        on_dead_letter=audit_dead_letter,
    )
    broker.add_middleware(CurrentMessage())
    for middleware, before in standard_middleware(settings):
        broker.add_middleware(middleware, before=before)
    return broker
