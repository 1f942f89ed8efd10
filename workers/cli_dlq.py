"""`flashflow dlq list|show|requeue|purge [--queue Q]`: the dead-letter queues."""

from __future__ import annotations

import argparse
import getpass
import json

import redis
from rich.table import Table

from flashflow_core.db.pool import connect
from flashflow_core.ops.dlq import DeadLetterError, DeadLetterQueues, DeadMessage, reasons, record_operator_action

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def register(sub: argparse._SubParsersAction) -> None:
    dlq = sub.add_parser("dlq", help="list, show, requeue or purge dead-lettered messages",
                         description="Dead-letter queues (Redis <namespace>:<queue>.XQ); each message's reason "
                         "comes from audit_log. Env: REDIS_URL, DATABASE_URL, FLASHFLOW_BROKER_NAMESPACE.")
    actions = dlq.add_subparsers(dest="dlq_action", metavar="ACTION", required=True)

    def queue_option(p: argparse.ArgumentParser) -> None:
        p.add_argument("--queue", "-q", metavar="Q", help="only this queue (default: every queue)")

    p = actions.add_parser("list", help="dead-lettered messages, newest first, with their reasons")
    queue_option(p)
    p.add_argument("--limit", type=int, default=50, help="at most this many per queue (default 50)")
    p.add_argument("--json", action="store_true", help="print JSON lines instead of a table")
    p.set_defaults(handler=cmd_list)

    p = actions.add_parser("show", help="one message: payload and reason")
    p.add_argument("id", help="the message's Redis id (as `dlq list` shows)")
    queue_option(p)
    p.set_defaults(handler=cmd_show)

    for name, handler, verb in (("requeue", cmd_requeue, "put back on their queue with fresh retries"),
                                ("purge", cmd_purge, "delete for good")):
        p = actions.add_parser(name, help=f"messages to {verb}")
        p.add_argument("ids", nargs="*", metavar="ID", help="Redis ids of the messages")
        p.add_argument("--all", action="store_true", help="every message (of --queue, or of every queue)")
        queue_option(p)
        p.set_defaults(handler=handler)


def _queues(ctx) -> DeadLetterQueues:
    settings = ctx.settings
    return DeadLetterQueues(redis.Redis.from_url(settings.redis_url), settings.broker_namespace)


def _reasons(ctx, messages: list[DeadMessage]) -> dict[str, str]:
    with connect(ctx.settings) as conn:
        return reasons(conn, [m.redis_message_id for m in messages])


def cmd_list(args: argparse.Namespace, ctx) -> int:
    """List dead-lettered messages per queue, newest first, with the recorded reason."""
    dlq = _queues(ctx)
    names = [args.queue] if args.queue else dlq.queues()
    messages = [m for name in names for m in dlq.entries(name, args.limit)]
    why = _reasons(ctx, messages)
    if args.json:
        for m in messages:
            ctx.console.print(json.dumps({
                "queue": m.queue, "id": m.redis_message_id, "dead_at": m.dead_at.isoformat(),
                "actor_name": m.actor_name, "reason": why.get(m.redis_message_id)}), markup=False, soft_wrap=True)
        return EXIT_OK
    if not messages:
        ctx.console.print("no dead-lettered messages" + (f" in {args.queue}" if args.queue else ""), markup=False)
        return EXIT_OK
    table = Table("queue", "id", "dead since (UTC)", "actor", "reason")
    for m in messages:
        table.add_row(m.queue, m.redis_message_id, f"{m.dead_at:%Y-%m-%d %H:%M:%S}", m.actor_name or "?",
                      why.get(m.redis_message_id, "(no reason recorded)"))
    ctx.console.print(table)
    return EXIT_OK


def cmd_show(args: argparse.Namespace, ctx) -> int:
    """Print one dead message: where, when, why, and its payload."""
    try:
        message = _queues(ctx).find(args.id, args.queue)
    except DeadLetterError as exc:
        ctx.err.print(f"flashflow dlq show: {exc}", markup=False)
        return EXIT_FAILED
    reason = _reasons(ctx, [message]).get(message.redis_message_id, "(no reason recorded)")
    fields = message.fields
    payload = json.dumps(fields, indent=2) if fields is not None else message.payload.decode("utf-8", "replace")
    for line in (f"queue:     {message.queue}", f"id:        {message.redis_message_id}",
                 f"dead since: {message.dead_at.isoformat()}", f"reason:    {reason}", "payload:", payload):
        ctx.console.print(line, markup=False, soft_wrap=True)
    return EXIT_OK


def _selected(args: argparse.Namespace, ctx, command: str) -> list[DeadMessage] | None:
    if bool(args.ids) == bool(args.all):
        ctx.err.print(f"flashflow dlq {command}: give message ids or --all (not both)", markup=False)
        return None
    dlq = _queues(ctx)
    if args.all:
        names = [args.queue] if args.queue else dlq.queues()
        return [m for name in names for m in dlq.entries(name)]
    try:
        return [dlq.find(rid, args.queue) for rid in args.ids]
    except DeadLetterError as exc:
        ctx.err.print(f"flashflow dlq {command}: {exc}", markup=False)
        return None


def cmd_requeue(args: argparse.Namespace, ctx) -> int:
    """Put dead messages back on their queues (fresh retries); each is audited."""
    messages = _selected(args, ctx, "requeue")
    if messages is None:
        return EXIT_USAGE if bool(args.ids) == bool(args.all) else EXIT_FAILED
    dlq, failed = _queues(ctx), 0
    with connect(ctx.settings, autocommit=True) as conn:
        for m in messages:
            try:
                dlq.requeue(m)
            except DeadLetterError as exc:
                ctx.err.print(f"flashflow dlq requeue: {exc}", markup=False)
                failed += 1
                continue
            record_operator_action(conn, "message.requeued", m, f"requeued on {m.queue} from its dead-letter "
                                   "queue", actor=f"cli:{getpass.getuser()}")
            ctx.console.print(f"requeued {m.redis_message_id} on {m.queue}", markup=False)
    return EXIT_FAILED if failed else EXIT_OK


def cmd_purge(args: argparse.Namespace, ctx) -> int:
    """Delete dead messages for good; each is audited."""
    messages = _selected(args, ctx, "purge")
    if messages is None:
        return EXIT_USAGE if bool(args.ids) == bool(args.all) else EXIT_FAILED
    dlq, removed = _queues(ctx), 0
    with connect(ctx.settings, autocommit=True) as conn:
        for m in messages:
            if dlq.purge(m.queue, [m.redis_message_id]):
                removed += 1
                record_operator_action(conn, "message.purged", m, f"purged from the dead-letter queue of {m.queue}",
                                       actor=f"cli:{getpass.getuser()}")
    ctx.console.print(f"purged {removed} message(s)", markup=False)
    return EXIT_OK
