"""Builds the Dramatiq Redis broker from settings. Call `setup_broker` before importing actors."""

from __future__ import annotations

import dramatiq
from dramatiq.brokers.redis import RedisBroker

from flashflow_core.config import Settings


def setup_broker(settings: Settings) -> RedisBroker:
    """Create the Redis broker for these settings and make it Dramatiq's global broker."""
    if not settings.redis_url:
        raise RuntimeError("REDIS_URL is not resolved; call ensure_services first")
    broker = RedisBroker(
        url=settings.redis_url,
        namespace=settings.broker_namespace,
        heartbeat_timeout=settings.heartbeat_timeout_s * 1000,
    )
    dramatiq.set_broker(broker)
    return broker
