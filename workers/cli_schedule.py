"""`flashflow scheduler`, `flashflow schedule list` and `flashflow schedule run`."""

from __future__ import annotations

import argparse
from datetime import datetime, timezone
from pathlib import Path

from rich.table import Table

from flashflow_core.scheduling.schedule_file import ScheduleEntry, ScheduleError, load_schedules
from workers.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE

_SCHEDULES_HELP = "schedules file (env FLASHFLOW_SCHEDULES_FILE, default schedules.yaml)"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("scheduler", help="send scheduled jobs' messages (one active among several)",
                       description=cmd_scheduler.__doc__)
    p.add_argument("--schedules", type=Path, metavar="PATH", help=_SCHEDULES_HELP)
    p.add_argument("--standby-poll", type=float, default=5.0, metavar="SECONDS",
                   help="how often a standby scheduler tries to take over, and the active one checks its lock "
                   "(default 5)")
    p.set_defaults(handler=cmd_scheduler)

    p = sub.add_parser("schedule", help="inspect or run the schedules in schedules.yaml")
    actions = p.add_subparsers(dest="schedule_command", metavar="ACTION", required=True)
    q = actions.add_parser("list", help="each schedule and its next run", description=cmd_list.__doc__)
    q.add_argument("--at", metavar="TIME", help="show the runs after TIME (ISO 8601, e.g. 2026-12-25T08:00; "
                   "without an offset it is read in each schedule's time zone) instead of after now")
    q.add_argument("--next", type=int, default=1, metavar="N", help="how many upcoming runs to show (default 1)")
    q.add_argument("--schedules", type=Path, metavar="PATH", help=_SCHEDULES_HELP)
    q.set_defaults(handler=cmd_list)
    q = actions.add_parser("run", help="send one schedule's message now", description=cmd_run.__doc__)
    q.add_argument("name", help="the schedule's name")
    q.add_argument("--schedules", type=Path, metavar="PATH", help=_SCHEDULES_HELP)
    q.set_defaults(handler=cmd_run)


def _load(args: argparse.Namespace, ctx) -> list[ScheduleEntry]:
    return load_schedules(args.schedules or ctx.base_settings.schedules_file)


def cmd_scheduler(args: argparse.Namespace, ctx) -> int:
    """Validate schedules.yaml (stopping with a message naming a bad entry), then send each
    schedule's message on time until SIGTERM/SIGINT. Run one per machine: one is active, the
    others stand by, and each tick is sent once."""
    from workers.scheduler import run_scheduler

    try:
        return run_scheduler(ctx.settings, args.schedules, standby_poll_s=args.standby_poll)
    except ScheduleError as exc:
        ctx.err.print(f"flashflow scheduler: {exc}", markup=False)
        return EXIT_USAGE


def _parse_at(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError as exc:
        raise ScheduleError(f"--at {text!r} is not an ISO 8601 time (e.g. 2026-12-25T08:00 or "
                            "2026-12-25T08:00+01:00)") from exc


def _upcoming(entry: ScheduleEntry, after: datetime, count: int) -> list[datetime]:
    runs: list[datetime] = []
    previous = None
    now = after
    while len(runs) < count:
        tick = entry.trigger.get_next_fire_time(previous, now)
        if tick is None:
            break
        runs.append(tick)
        previous = now = tick
    return runs


def cmd_list(args: argparse.Namespace, ctx) -> int:
    """Show each schedule, its timing, and its next run(s) after now or after --at TIME, so a
    crontab line can be checked against a date."""
    if args.next < 1:
        ctx.err.print("flashflow schedule list: --next takes a number of at least 1")
        return EXIT_USAGE
    try:
        entries = _load(args, ctx)
        at = _parse_at(args.at) if args.at else None
    except ScheduleError as exc:
        ctx.err.print(f"flashflow schedule list: {exc}", markup=False)
        return EXIT_USAGE
    table = Table("name", "actor", "when", "timezone", "enabled", "next run")
    table.columns[-1].no_wrap = True
    for entry in entries:
        after = datetime.now(timezone.utc) if at is None else at if at.tzinfo else at.replace(tzinfo=entry.tz)
        runs = _upcoming(entry, after, args.next)
        shown = "\n".join(run.astimezone(entry.tz).strftime("%a %Y-%m-%d %H:%M:%S %Z") for run in runs) or "never"
        table.add_row(entry.name, entry.actor, entry.when, entry.timezone, "yes" if entry.enabled else "no", shown)
    ctx.console.print(table)
    return EXIT_OK


def cmd_run(args: argparse.Namespace, ctx) -> int:
    """Send one schedule's message now, with its kwargs (a disabled schedule too). The fire
    ledger is not written: this is not a tick."""
    import redis
    from dramatiq.errors import ConnectionError as BrokerConnectionError

    from jobs.boot import boot
    from jobs.scheduled import check_schedules, tick_message

    try:
        entries = _load(args, ctx)
        actors = boot(ctx.settings).actors
        check_schedules(entries, actors)
    except ScheduleError as exc:
        ctx.err.print(f"flashflow schedule run: {exc}", markup=False)
        return EXIT_USAGE
    entry = next((e for e in entries if e.name == args.name), None)
    if entry is None:
        ctx.err.print(f"flashflow schedule run: no schedule named {args.name!r} "
                      f"(have: {', '.join(e.name for e in entries)})", markup=False)
        return EXIT_USAGE
    actor = actors[entry.actor]
    try:
        message = actor.broker.enqueue(tick_message(entry, actor, None))
    except (redis.RedisError, BrokerConnectionError) as exc:
        ctx.err.print(f"flashflow schedule run: could not send {entry.actor}: {exc}", markup=False)
        return EXIT_FAILED
    ctx.console.print(f"sent {entry.actor} for schedule {entry.name} (message {message.message_id})", markup=False)
    return EXIT_OK
