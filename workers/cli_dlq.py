"""`flashflow dlq list|show|requeue|purge [--queue Q]`: the dead-letter queues."""

from __future__ import annotations

import argparse
import getpass
import json
import sys

import redis

from flashflow_core.db.pool import connect
from flashflow_core.ops.dlq import (
    AmbiguousDeadLetter,
    DeadLetterError,
    DeadLetterQueues,
    DeadMessage,
    reasons,
    record_operator_action,
)
from workers.cli_output import Column, is_terminal, json_rows
from workers.exit_codes import ExitCode

NEEDS = ("redis", "postgres")
LIST_COLUMNS = (Column("queue"), Column("id", whole=True), Column("dead_at", "dead since (UTC)"), Column("actor_name", "actor"),
                Column("reason"))


def register(sub: argparse._SubParsersAction) -> None:
    dlq = sub.add_parser("dlq", help="list, show, requeue or purge dead-lettered messages",
                         description="Dead-letter queues (Redis <namespace>:<queue>.XQ); each message's reason "
                         "comes from audit_log. Env: REDIS_URL, DATABASE_URL, FLASHFLOW_BROKER_NAMESPACE.")
    actions = dlq.add_subparsers(dest="dlq_action", metavar="ACTION", required=True)

    def queue_option(p: argparse.ArgumentParser) -> None:
        p.add_argument("--queue", "-q", metavar="Q", help="only this queue (default: every queue)")

    p = actions.add_parser("list", help="dead-lettered messages, newest first, with their reasons",
                           description=cmd_list.__doc__)
    queue_option(p)
    p.add_argument("--limit", type=int, default=50, help="at most this many per queue (default 50)")
    p.add_argument("--json", action="store_true", help="print a JSON list instead of a table")
    p.set_defaults(handler=cmd_list, needs=NEEDS)

    p = actions.add_parser("show", help="one message: payload and reason")
    p.add_argument("id", help="the message's Redis id (as `dlq list` shows), or its first characters")
    queue_option(p)
    p.set_defaults(handler=cmd_show, needs=NEEDS)

    for name, handler, verb in (("requeue", cmd_requeue, "put back on their queue with fresh retries"),
                                ("purge", cmd_purge, "delete for good")):
        p = actions.add_parser(name, help=f"messages to {verb}", description=handler.__doc__)
        p.add_argument("ids", nargs="*", metavar="ID", help="Redis ids of the messages (or their first characters)")
        p.add_argument("--all", action="store_true", help="every message (of --queue, or of every queue)")
        queue_option(p)
        if name == "purge":
            p.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation (required when "
                           "standard input is not a terminal)")
        p.set_defaults(handler=handler, needs=NEEDS)


def _queues(ctx) -> DeadLetterQueues:
    settings = ctx.settings
    return DeadLetterQueues(redis.Redis.from_url(settings.redis_url), settings.broker_namespace)


def _reasons(ctx, messages: list[DeadMessage]) -> dict[str, str]:
    with connect(ctx.settings) as conn:
        return reasons(conn, [m.redis_message_id for m in messages])


def cmd_list(args: argparse.Namespace, ctx) -> int:
    """List dead-lettered messages per queue, newest first, with the recorded reason.

    Columns: queue, id, dead since (UTC, ISO 8601), actor, reason."""
    dlq = _queues(ctx)
    names = [args.queue] if args.queue else dlq.queues()
    messages = [m for name in names for m in dlq.entries(name, args.limit)]
    why = _reasons(ctx, messages)
    rows = [{"queue": m.queue, "id": m.redis_message_id, "dead_at": m.dead_at.isoformat(),
             "actor_name": m.actor_name, "reason": why.get(m.redis_message_id)} for m in messages]
    if args.json:
        ctx.out.json(json_rows(LIST_COLUMNS, rows))
    elif not rows and ctx.out.terminal:
        ctx.out.text("no dead-lettered messages" + (f" in {args.queue}" if args.queue else ""))
    else:
        ctx.out.rows(LIST_COLUMNS, rows)
    return ExitCode.OK


def cmd_show(args: argparse.Namespace, ctx) -> int:
    """Print one dead message: where, when, why, and its payload."""
    try:
        message = _queues(ctx).find(args.id, args.queue)
    except DeadLetterError as exc:
        return ctx.fail("dlq show", str(exc), _code(exc))
    reason = _reasons(ctx, [message]).get(message.redis_message_id, "(no reason recorded)")
    fields = message.fields
    payload = json.dumps(fields, indent=2) if fields is not None else message.payload.decode("utf-8", "replace")
    for line in (f"queue:     {message.queue}", f"id:        {message.redis_message_id}",
                 f"dead since: {message.dead_at.isoformat()}", f"reason:    {reason}", "payload:", payload):
        ctx.console.print(line, markup=False, soft_wrap=True)
    return ExitCode.OK


def _code(exc: DeadLetterError) -> ExitCode:
    return ExitCode.USAGE if isinstance(exc, AmbiguousDeadLetter) else ExitCode.NOT_FOUND


def _selected(args: argparse.Namespace, ctx, command: str) -> list[DeadMessage] | ExitCode:
    """The messages named by ids, prefixes or --all; or the exit code after saying what is wrong."""
    if bool(args.ids) == bool(args.all):
        return ctx.fail(f"dlq {command}", "give message ids or --all (not both)", ExitCode.USAGE)
    dlq = _queues(ctx)
    if args.all:
        names = [args.queue] if args.queue else dlq.queues()
        return [m for name in names for m in dlq.entries(name)]
    try:
        return [dlq.find(rid, args.queue) for rid in args.ids]
    except DeadLetterError as exc:
        return ctx.fail(f"dlq {command}", str(exc), _code(exc))


def cmd_requeue(args: argparse.Namespace, ctx) -> int:
    """Put dead messages back on their queues (fresh retries); each is audited."""
    messages = _selected(args, ctx, "requeue")
    if isinstance(messages, ExitCode):
        return messages
    dlq, failed = _queues(ctx), 0
    with connect(ctx.settings, autocommit=True) as conn:
        for m in messages:
            try:
                dlq.requeue(m)
            except DeadLetterError as exc:
                ctx.fail("dlq requeue", str(exc))
                failed += 1
                continue
            record_operator_action(conn, "message.requeued", m, f"requeued on {m.queue} from its dead-letter "
                                   "queue", actor=f"cli:{getpass.getuser()}")
            ctx.out.text(f"requeued {m.redis_message_id} on {m.queue}")
    return ExitCode.FAILED if failed else ExitCode.OK


def cmd_purge(args: argparse.Namespace, ctx) -> int:
    """Delete dead messages for good; each is audited. Asks first when standard input is a
    terminal; otherwise --yes is required."""
    messages = _selected(args, ctx, "purge")
    if isinstance(messages, ExitCode):
        return messages
    if not messages:
        ctx.out.text("purged 0 message(s)")
        return ExitCode.OK
    if not args.yes and not _confirmed(ctx, len(messages)):
        return ExitCode.USAGE if not is_terminal(sys.stdin) else ExitCode.FAILED
    dlq, removed = _queues(ctx), 0
    with connect(ctx.settings, autocommit=True) as conn:
        for m in messages:
            if dlq.purge(m.queue, [m.redis_message_id]):
                removed += 1
                record_operator_action(conn, "message.purged", m, f"purged from the dead-letter queue of {m.queue}",
                                       actor=f"cli:{getpass.getuser()}")
    ctx.out.text(f"purged {removed} message(s)")
    return ExitCode.OK


def _confirmed(ctx, count: int) -> bool:
    """Ask on the terminal; refuse (with the reason) when nobody can answer."""
    if not is_terminal(sys.stdin):
        ctx.fail("dlq purge", f"refusing to delete {count} message(s) for good without confirmation: "
                 "pass --yes", ExitCode.USAGE)
        return False
    answer = ctx.err.input(f"Delete {count} dead-lettered message(s) for good? [y/N] ", markup=False)
    if answer.strip().lower() in ("y", "yes"):
        return True
    ctx.err.print("nothing purged", markup=False)
    return False
