"""`flashflow queue list|pause|resume`: see each queue, and stop or restart workers taking its messages."""

from __future__ import annotations

import argparse
import getpass
import json
import time

import redis
from rich.table import Table

from flashflow_core.db.pool import connect
from flashflow_core.ops.metrics import queue_state
from flashflow_core.ops.queue_pause import QueuePauses, pause_queue, resume_queue
from workers.worker import ALL_QUEUES

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("queue", help="list queues; pause or resume one (workers stop taking its messages)",
                       description="Queues in Redis and their pauses. A paused queue keeps its messages; every "
                       "worker, including ones started later, takes none of them until it is resumed. "
                       "Env: REDIS_URL, DATABASE_URL (the audit row), FLASHFLOW_BROKER_NAMESPACE.")
    actions = p.add_subparsers(dest="queue_action", metavar="ACTION", required=True)

    q = actions.add_parser("list", help="each queue: paused?, waiting, in flight, delayed, dead, oldest message")
    q.add_argument("--json", action="store_true", help="print one JSON object per queue")
    q.set_defaults(handler=cmd_list)
    for name, handler, verb in (("pause", cmd_pause, "stop workers taking the messages of"),
                                ("resume", cmd_resume, "let workers take the messages of")):
        q = actions.add_parser(name, help=f"{verb} QUEUE (audited)")
        q.add_argument("queues", nargs="+", choices=ALL_QUEUES, metavar="QUEUE",
                       help=f"one or more of {', '.join(ALL_QUEUES)}")
        q.set_defaults(handler=handler)


def _pauses(ctx) -> QueuePauses:
    return QueuePauses(redis.Redis.from_url(ctx.settings.redis_url), ctx.settings.broker_namespace)


def cmd_list(args: argparse.Namespace, ctx) -> int:
    """One line per queue: whether it is paused (by whom), and what it holds."""
    pauses = _pauses(ctx)
    paused = pauses.paused()
    now_ms = int(time.time() * 1000)
    rows = []
    for queue in ALL_QUEUES:
        state = queue_state(pauses.client, ctx.settings.broker_namespace, queue, now_ms)
        pause = paused.get(queue)
        rows.append({"queue": queue, "paused": pause is not None, "paused_by": pause.by if pause else None,
                     "paused_since": pause.since.isoformat() if pause and pause.since else None,
                     "waiting": state.waiting, "in_flight": state.in_flight, "delayed": state.delayed,
                     "dead": state.dead, "oldest_age_s": state.oldest_age_s})
    if args.json:
        for row in rows:
            ctx.console.print(json.dumps(row), markup=False, soft_wrap=True)
        return EXIT_OK
    table = Table("queue", "paused", "waiting", "in flight", "delayed", "dead", "oldest (s)")
    for row in rows:
        shown = f"yes, by {row['paused_by']} since {row['paused_since'][:19]}" if row["paused_since"] else (
            f"yes, by {row['paused_by']}" if row["paused"] else "no")
        age = row["oldest_age_s"]
        table.add_row(row["queue"], shown, str(row["waiting"]), str(row["in_flight"]), str(row["delayed"]),
                      str(row["dead"]), "" if age is None else f"{age:.0f}")
    ctx.console.print(table)
    return EXIT_OK


def _change(args: argparse.Namespace, ctx, change, done: str, unchanged: str) -> int:
    pauses = _pauses(ctx)
    actor = f"cli:{getpass.getuser()}"
    with connect(ctx.settings, autocommit=True) as conn:
        for queue in dict.fromkeys(args.queues):
            changed = change(pauses, conn, queue, actor)
            ctx.console.print(f"{queue} {done if changed else unchanged}", markup=False)
    return EXIT_OK


def cmd_pause(args: argparse.Namespace, ctx) -> int:
    """Pause queues: workers finish what they hold and take no more of their messages until resumed."""
    return _change(args, ctx, pause_queue, "paused", "was paused already")


def cmd_resume(args: argparse.Namespace, ctx) -> int:
    """Resume queues: workers take their waiting messages again."""
    return _change(args, ctx, resume_queue, "resumed", "was not paused")
