"""Dead-letter queues: recording why a message was dead-lettered, and listing, showing,
requeueing and purging what Dramatiq keeps in `<namespace>:<queue>.XQ` (a sorted set of ids by
time of death) and `<queue>.XQ.msgs` (id -> payload).

The reason lives in `audit_log` (event `message.dead_lettered`, entity = the Redis message id),
so it outlives the Redis entry and is visible to whoever reads the audit trail.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg
import redis
from psycopg.types.json import Jsonb

from flashflow_core.db.sql import load_queries
from flashflow_core.ops.redis_keys import BrokerKeys

Q = load_queries("flashflow_core.ops", "dlq.sql")
EXCERPT_CHARS = 4000


@dataclass(frozen=True)
class DeadLetter:
    """One message moved to a dead-letter queue, and why."""

    queue: str
    redis_message_id: str
    kind: str
    reason: str
    message_id: str | None = None
    actor_name: str | None = None
    payload: str | None = None
    stored: bool = True


@dataclass(frozen=True)
class DeadMessage:
    """A message held in a dead-letter queue."""

    queue: str
    redis_message_id: str
    dead_at: datetime
    payload: bytes
    reason: str | None = None

    @property
    def fields(self) -> dict[str, Any] | None:
        """The decoded JSON object, or None when the payload is not one."""
        try:
            value = json.loads(self.payload)
        except (ValueError, UnicodeDecodeError):
            return None
        return value if isinstance(value, dict) else None

    @property
    def actor_name(self) -> str | None:
        value = (self.fields or {}).get("actor_name")
        return value if isinstance(value, str) else None


class DeadLetterError(Exception):
    """A dead-letter operation could not be done; the message says why."""


class NoSuchDeadLetter(DeadLetterError):
    """No dead message has that id, or an id starting that way."""


class AmbiguousDeadLetter(DeadLetterError):
    """Several dead messages have ids starting that way; the message lists them."""


AMBIGUOUS_SHOWN = 10


def payload_excerpt(data: bytes | None) -> str | None:
    """The payload as text for the audit row, cut to a readable length."""
    if data is None:
        return None
    # Postgres text and jsonb cannot hold NUL; undecodable bytes are shown as \xNN.
    text = data.decode("utf-8", errors="backslashreplace").replace("\x00", "\\x00")
    return text if len(text) <= EXCERPT_CHARS else text[:EXCERPT_CHARS] + "…"


def record_dead_letter(conn: psycopg.Connection, letter: DeadLetter) -> None:
    """Insert the audit_log row that says why `letter` was dead-lettered."""
    who = f" ({letter.actor_name})" if letter.actor_name else ""
    conn.execute(Q["record_dead_letter"], {
        "correlation_id": letter.message_id or letter.redis_message_id,
        "message_id": letter.message_id,
        "redis_message_id": letter.redis_message_id,
        "summary": f"{letter.queue}{who}: {letter.reason}"[:2000],
        "details": Jsonb({
            "queue": letter.queue, "kind": letter.kind, "reason": letter.reason,
            "message_id": letter.message_id, "actor_name": letter.actor_name,
            "payload": letter.payload, "in_dead_letter_queue": letter.stored,
        }),
    })


def reasons(conn: psycopg.Connection, redis_ids: list[str]) -> dict[str, str]:
    """{redis id: latest recorded reason} for the given dead-lettered ids (`conn` has dict rows)."""
    if not redis_ids:
        return {}
    rows = conn.execute(Q["reasons"], {"ids": redis_ids}).fetchall()
    return {r["redis_message_id"]: r["details"].get("reason") or r["summary"] for r in rows}


def record_operator_action(conn: psycopg.Connection, event_type: str, message: DeadMessage, summary: str,
                           actor: str) -> None:
    """Audit a requeue or purge done by a person."""
    fields = message.fields or {}
    conn.execute(Q["record_operator_action"], {
        "correlation_id": fields.get("message_id") or message.redis_message_id,
        "message_id": fields.get("message_id"), "event_type": event_type,
        "redis_message_id": message.redis_message_id, "actor": actor, "summary": summary,
        "details": Jsonb({"queue": message.queue, "actor_name": message.actor_name}),
    })


class DeadLetterQueues:
    """The dead-letter queues of one broker namespace in Redis."""

    def __init__(self, client: redis.Redis, namespace: str = "dramatiq") -> None:
        self.client = client
        self.keys = BrokerKeys(namespace)

    def _keys(self, queue: str) -> tuple[str, str]:
        return self.keys.dead(queue), self.keys.dead_messages(queue)

    def queues(self) -> list[str]:
        """Names of the queues that have a dead-letter set, sorted."""
        found = {self.keys.queue_of(key) for key in self.client.scan_iter(match=self.keys.dead_pattern, count=500)}
        return sorted(q for q in found if q is not None)

    def size(self, queue: str) -> int:
        """How many messages the queue's dead-letter set holds."""
        return int(self.client.zcard(self._keys(queue)[0]))

    def entries(self, queue: str, limit: int | None = None) -> list[DeadMessage]:
        """Dead messages of `queue`, newest first."""
        xq, msgs = self._keys(queue)
        end = -1 if limit is None else max(limit, 1) - 1
        ranked = self.client.zrevrange(xq, 0, end, withscores=True)
        if not ranked:
            return []
        payloads = self.client.hmget(msgs, [rid for rid, _ in ranked])
        return [DeadMessage(queue, rid.decode(), datetime.fromtimestamp(score / 1000, UTC), data or b"")
                for (rid, score), data in zip(ranked, payloads)]

    def get(self, queue: str, redis_id: str) -> DeadMessage | None:
        """One dead message, or None."""
        xq, msgs = self._keys(queue)
        score = self.client.zscore(xq, redis_id)
        if score is None:
            return None
        data = self.client.hget(msgs, redis_id) or b""
        return DeadMessage(queue, redis_id, datetime.fromtimestamp(score / 1000, UTC), data)

    def find(self, redis_id: str, queue: str | None = None) -> DeadMessage:
        """The dead message with this id, or the only one whose id starts with it, in `queue` (or
        any queue); NoSuchDeadLetter or AmbiguousDeadLetter (listing the candidates) otherwise."""
        names = [queue] if queue else self.queues()
        for name in names:
            found = self.get(name, redis_id)
            if found is not None:
                return found
        where = f"queue {queue!r}" if queue else "any dead-letter queue"
        pattern = re.sub(r"([*?\[\]\\])", r"\\\1", redis_id) + "*"
        candidates = [(name, member.decode()) for name in names
                      for member, _ in self.client.zscan_iter(self.keys.dead(name), match=pattern, count=1000)]
        if not redis_id or not candidates:
            raise NoSuchDeadLetter(f"no message {redis_id!r} in {where}")
        if len(candidates) > 1:
            shown = ", ".join(f"{rid} ({name})" for name, rid in candidates[:AMBIGUOUS_SHOWN])
            more = f" and {len(candidates) - AMBIGUOUS_SHOWN} more" if len(candidates) > AMBIGUOUS_SHOWN else ""
            raise AmbiguousDeadLetter(f"{redis_id!r} starts {len(candidates)} message ids: {shown}{more}; "
                                      "give more of the id")
        name, rid = candidates[0]
        found = self.get(name, rid)
        if found is None:
            raise NoSuchDeadLetter(f"message {rid!r} left the dead-letter queue meanwhile")
        return found

    def requeue(self, message: DeadMessage) -> None:
        """Put a dead message back on its queue with a fresh set of retries (atomically)."""
        fields = message.fields
        if fields is None:
            raise DeadLetterError(f"message {message.redis_message_id!r} is not a JSON object, so it can "
                                  "never run; fix the producer and purge it")
        options = fields.get("options") if isinstance(fields.get("options"), dict) else {}
        for key in ("retries", "traceback", "requeue_timestamp", "eta"):
            options.pop(key, None)
        options["redis_message_id"] = message.redis_message_id
        fields["options"] = options
        fields["queue_name"] = message.queue
        data = json.dumps(fields, separators=(",", ":"))
        xq, xq_msgs = self._keys(message.queue)
        queue_key = self.keys.queue(message.queue)
        with self.client.pipeline() as pipe:
            pipe.watch(xq)
            if pipe.zscore(xq, message.redis_message_id) is None:
                raise DeadLetterError(f"message {message.redis_message_id!r} left the dead-letter queue meanwhile")
            pipe.multi()
            pipe.zrem(xq, message.redis_message_id)
            pipe.hdel(xq_msgs, message.redis_message_id)
            pipe.hset(self.keys.messages(message.queue), message.redis_message_id, data)
            pipe.rpush(queue_key, message.redis_message_id)
            pipe.execute()

    def purge(self, queue: str, redis_ids: list[str] | None = None) -> int:
        """Delete the given dead messages of `queue` (all when None); return how many went."""
        xq, msgs = self._keys(queue)
        if redis_ids is None:
            with self.client.pipeline() as pipe:
                pipe.zcard(xq)
                pipe.delete(xq, msgs)
                count, _ = pipe.execute()
            return int(count)
        with self.client.pipeline() as pipe:
            pipe.zrem(xq, *redis_ids)
            pipe.hdel(msgs, *redis_ids)
            removed, _ = pipe.execute()
        return int(removed)
