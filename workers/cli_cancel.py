"""`flashflow cancel ID...`: stop queued or waiting Winners Bank rows."""

from __future__ import annotations

import argparse
import getpass

from flashflow_core.winners import manual
from workers.cli_show import KEY_HELP, resolve
from workers.exit_codes import ExitCode


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("cancel", help="stop queued or waiting rows: they fail, 'canceled by cli:USER'",
                       description=cmd_cancel.__doc__)
    p.add_argument("ids", nargs="+", metavar="ID", help=KEY_HELP)
    p.set_defaults(handler=cmd_cancel, needs=("postgres",))


def cmd_cancel(args: argparse.Namespace, ctx) -> int:
    """Stop rows that are queued or waiting for a worker: each fails with "canceled by cli:USER" at the
    stage it waited on (audited; `flashflow retry` starts it again). A row an attempt is working on is
    refused until that attempt ends; pause its queue first to hold the rest."""
    from flashflow_core.db.pool import make_pool

    code = ExitCode.OK
    actor = f"cli:{getpass.getuser()}"
    with make_pool(ctx.settings, name="flashflow-cancel") as pool:
        for key in args.ids:
            with pool.connection() as conn:
                reference_id = resolve(ctx, conn, key, "cancel")
            if isinstance(reference_id, ExitCode):
                code = reference_id
                continue
            try:
                stage = manual.cancel(pool, reference_id, actor=actor)
            except manual.CannotStepIn as exc:
                code = ctx.fail("cancel", str(exc))
                continue
            ctx.out.line(reference_id, "canceled", stage)
    return code
