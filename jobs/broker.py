"""Builds the Dramatiq Redis broker from settings. Call `setup_broker` before importing actors."""

from __future__ import annotations

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import CurrentMessage

from flashflow_core.config import Settings


def setup_broker(settings: Settings) -> RedisBroker:
    """Create the Redis broker for these settings and make it Dramatiq's global broker.

    Actors already declared on an earlier broker (a test, or a CLI call in the same process)
    move to the new one, since Dramatiq binds actors to the broker at import time.
    """
    if not settings.redis_url:
        raise RuntimeError("REDIS_URL is not resolved; call ensure_services first")
    broker = RedisBroker(
        url=settings.redis_url,
        namespace=settings.broker_namespace,
        heartbeat_timeout=settings.heartbeat_timeout_s * 1000,
    )
    broker.add_middleware(CurrentMessage())
    previous = dramatiq.broker.global_broker
    dramatiq.set_broker(broker)
    if previous is not None and previous is not broker:
        for name in previous.get_declared_actors():
            actor = previous.get_actor(name)
            actor.broker = broker
            broker.declare_actor(actor)
    return broker
