"""`flashflow console`: the operator console in the browser (docs/console.md)."""

from __future__ import annotations

import argparse

from flashflow_core.ops import outages
from workers.exit_codes import ExitCode


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("console", help="serve the operator console (queues, rows, dead letters, schedules)",
                       description=cmd_console.__doc__)
    p.add_argument("--host", help="address to listen on (env FLASHFLOW_CONSOLE_HOST, default 127.0.0.1); "
                   "anything but loopback needs FLASHFLOW_CONSOLE_TOKEN")
    p.add_argument("--port", type=int, help="port (env FLASHFLOW_CONSOLE_PORT, default 8484)")
    p.set_defaults(handler=cmd_console)


def cmd_console(args: argparse.Namespace, ctx) -> int:
    """Serve the console: overview, Winners Bank rows, dead letters, queues and schedules, with the
    actions an operator takes (retry, attach, cancel, requeue, purge, pause, run now), each audited
    as console:NAME. Sign-in with FLASHFLOW_CONSOLE_TOKEN (NAME:SECRET pairs, or one SECRET)."""
    from flashflow_console.server import ConsoleRefused, check_binding, serve

    host = args.host or ctx.base_settings.console_host
    port = args.port or ctx.base_settings.console_port
    try:
        check_binding(ctx.base_settings, host)  # before starting any embedded server
    except ConsoleRefused as exc:
        return ctx.fail("console", str(exc), ExitCode.USAGE)
    settings = ctx.settings
    try:  # the servers answer and the database is migrated, or one line saying which does not
        outages.check_redis(settings.redis_url or "")
        outages.check_postgres(settings.database_url or "")
    except outages.ServerProblem as exc:
        return ctx.fail("console", str(exc), ExitCode.NOT_MIGRATED if exc.not_migrated else ExitCode.UNAVAILABLE)
    return serve(settings, host, port)
