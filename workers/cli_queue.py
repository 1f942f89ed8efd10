"""`flashflow queue list|pause|resume`: see each queue, and stop or restart workers taking its messages."""

from __future__ import annotations

import argparse
import getpass
import time

import redis

from flashflow_core.db.pool import connect
from flashflow_core.ops.metrics import queue_state
from flashflow_core.ops.queue_pause import QueuePauses, pause_queue, resume_queue
from workers.cli_output import Column, json_rows
from workers.exit_codes import ExitCode
from workers.worker import ALL_QUEUES

LIST_COLUMNS = (Column("queue"), Column("paused", show=lambda on: "yes" if on else "no"), Column("paused_by", "by"),
                Column("paused_since", "since"), Column("waiting"), Column("in_flight", "in flight"),
                Column("delayed"), Column("dead"), Column("oldest_age_s", "oldest (s)", show=lambda s: f"{s:.0f}"))


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("queue", help="list queues; pause or resume one (workers stop taking its messages)",
                       description="Queues in Redis and their pauses. A paused queue keeps its messages; every "
                       "worker, including ones started later, takes none of them until it is resumed. "
                       "Env: REDIS_URL, DATABASE_URL (the audit row), FLASHFLOW_BROKER_NAMESPACE.")
    actions = p.add_subparsers(dest="queue_action", metavar="ACTION", required=True)

    q = actions.add_parser("list", help="each queue: paused?, waiting, in flight, delayed, dead, oldest message",
                           description=cmd_list.__doc__)
    q.add_argument("--json", action="store_true", help="print a JSON list, one object per queue")
    q.set_defaults(handler=cmd_list, needs=("redis",))
    for name, handler, verb in (("pause", cmd_pause, "stop workers taking the messages of"),
                                ("resume", cmd_resume, "let workers take the messages of")):
        q = actions.add_parser(name, help=f"{verb} QUEUE (audited)")
        q.add_argument("queues", nargs="+", choices=ALL_QUEUES, metavar="QUEUE",
                       help=f"one or more of {', '.join(ALL_QUEUES)}")
        q.set_defaults(handler=handler, needs=("redis", "postgres"))


def _pauses(ctx) -> QueuePauses:
    return QueuePauses(redis.Redis.from_url(ctx.settings.redis_url), ctx.settings.broker_namespace)


def cmd_list(args: argparse.Namespace, ctx) -> int:
    """One line per queue: whether it is paused (by whom, since when), and what it holds. Columns:
    queue, paused, by, since, waiting, in flight, delayed, dead, oldest (s)."""
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
        ctx.out.json(json_rows(LIST_COLUMNS, rows))
    else:
        ctx.out.rows(LIST_COLUMNS, rows)
    return ExitCode.OK


def _change(args: argparse.Namespace, ctx, change, done: str, unchanged: str) -> int:
    pauses = _pauses(ctx)
    actor = f"cli:{getpass.getuser()}"
    with connect(ctx.settings, autocommit=True) as conn:
        for queue in dict.fromkeys(args.queues):
            changed = change(pauses, conn, queue, actor)
            ctx.out.text(f"{queue} {done if changed else unchanged}")
    return ExitCode.OK


def cmd_pause(args: argparse.Namespace, ctx) -> int:
    """Pause queues: workers finish what they hold and take no more of their messages until resumed."""
    return _change(args, ctx, pause_queue, "paused", "was paused already")


def cmd_resume(args: argparse.Namespace, ctx) -> int:
    """Resume queues: workers take their waiting messages again."""
    return _change(args, ctx, resume_queue, "resumed", "was not paused")
