"""`flashflow scheduler`, `flashflow schedule list` and `flashflow schedule run`."""

from __future__ import annotations

import argparse
from datetime import datetime, timezone
from pathlib import Path

from flashflow_core.scheduling.schedule_file import ScheduleEntry, ScheduleError, load_schedules
from workers.cli_output import Column, json_rows
from workers.exit_codes import ExitCode

_SCHEDULES_HELP = "schedules file (env FLASHFLOW_SCHEDULES_FILE, default: the project's schedules.yaml)"
_RUN_FORMAT = "%a %Y-%m-%d %H:%M:%S %Z"
LIST_COLUMNS = (Column("name"), Column("actor"), Column("when"), Column("timezone"),
                Column("enabled", show=lambda on: "yes" if on else "no"),
                Column("next_runs", "next run", show=", ".join))


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("scheduler", help="send scheduled jobs' messages (one active among several)",
                       description=cmd_scheduler.__doc__)
    p.add_argument("--schedules", type=Path, metavar="PATH", help=_SCHEDULES_HELP)
    p.add_argument("--standby-poll", type=float, default=5.0, metavar="SECONDS",
                   help="how often a standby scheduler tries to take over, and the active one checks its lock "
                   "(default 5)")
    p.set_defaults(handler=cmd_scheduler, needs=("redis", "postgres"))

    p = sub.add_parser("schedule", help="inspect or run the schedules in schedules.yaml")
    actions = p.add_subparsers(dest="schedule_command", metavar="ACTION", required=True)
    q = actions.add_parser("list", help="each schedule and its next run", description=cmd_list.__doc__)
    q.add_argument("--at", metavar="TIME", help="show the runs after TIME (ISO 8601, e.g. 2026-12-25T08:00; "
                   "without an offset it is read in each schedule's time zone) instead of after now")
    q.add_argument("--next", type=int, default=1, metavar="N", help="how many upcoming runs to show (default 1)")
    q.add_argument("--schedules", type=Path, metavar="PATH", help=_SCHEDULES_HELP)
    q.add_argument("--json", action="store_true", help="print a JSON list (run times in ISO 8601)")
    q.set_defaults(handler=cmd_list)
    q = actions.add_parser("run", help="send one schedule's message now", description=cmd_run.__doc__)
    q.add_argument("name", help="the schedule's name")
    q.add_argument("--schedules", type=Path, metavar="PATH", help=_SCHEDULES_HELP)
    q.set_defaults(handler=cmd_run, needs=("redis",))


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
        return ExitCode.USAGE


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
    crontab line can be checked against a date. Columns: name, actor, when, timezone, enabled,
    next run (several separated by ", ")."""
    if args.next < 1:
        return ctx.fail("schedule list", "--next takes a number of at least 1", ExitCode.USAGE)
    try:
        entries = _load(args, ctx)
        at = _parse_at(args.at) if args.at else None
    except ScheduleError as exc:
        return ctx.fail("schedule list", str(exc), ExitCode.USAGE)
    rows = []
    for entry in entries:
        after = datetime.now(timezone.utc) if at is None else at if at.tzinfo else at.replace(tzinfo=entry.tz)
        runs = [run.astimezone(entry.tz) for run in _upcoming(entry, after, args.next)]
        rows.append({"name": entry.name, "actor": entry.actor, "when": entry.when, "timezone": entry.timezone,
                     "enabled": entry.enabled, "next_runs": runs})
    if args.json:
        ctx.out.json([{**row, "next_runs": [run.isoformat() for run in row["next_runs"]]}
                      for row in json_rows(LIST_COLUMNS, rows)])
        return ExitCode.OK
    for row in rows:
        row["next_runs"] = [run.strftime(_RUN_FORMAT) for run in row["next_runs"]] or ["never"]
    ctx.out.rows(LIST_COLUMNS, rows)
    return ExitCode.OK


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
        return ExitCode.USAGE
    entry = next((e for e in entries if e.name == args.name), None)
    if entry is None:
        ctx.err.print(f"flashflow schedule run: no schedule named {args.name!r} "
                      f"(have: {', '.join(e.name for e in entries)})", markup=False)
        return ExitCode.USAGE
    actor = actors[entry.actor]
    try:
        message = actor.broker.enqueue(tick_message(entry, actor, None))
    except (redis.RedisError, BrokerConnectionError) as exc:
        ctx.err.print(f"flashflow schedule run: could not send {entry.actor}: {exc}", markup=False)
        return ExitCode.FAILED
    ctx.console.print(f"sent {entry.actor} for schedule {entry.name} (message {message.message_id})", markup=False)
    return ExitCode.OK
