"""The `flashflow` command line: one function per subcommand, `main(argv) -> exit code`.

Subcommands live in small modules (`workers/cli_*.py`), each with a `register(subparsers)`
that adds its parsers and sets `handler` to a function `(args, ctx) -> int`, and `needs` to the
servers it uses ("postgres", "redis"). Before a handler runs, `main` checks those servers answer
(and that the database is migrated), so an outage is one line and a named exit code within
seconds, not a traceback after a pool's 30 s wait. Exit codes: `workers.exit_codes`.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import sys
from collections.abc import Sequence
from functools import cached_property

from rich.console import Console

from flashflow_core.config import ConfigError, Settings, load_settings
from flashflow_core.embedded.common import ServiceError
from flashflow_core.logs import setup_logging
from flashflow_core.ops import outages
from flashflow_core.redaction import install_excepthooks, redact
from workers.cli_output import Output
from workers.exit_codes import ExitCode, describe

# Options every command accepts, before or after the subcommand's name.
GLOBAL_OPTIONS: tuple[tuple[tuple[str, ...], dict], ...] = (
    (("--log-format",), {"choices": ["json", "text"], "type": str.lower,
                         "help": "log line format (env FLASHFLOW_LOG_FORMAT; default: text on a terminal, else json)"}),
    (("--log-level",), {"choices": ["DEBUG", "INFO", "WARNING", "ERROR"], "type": str.upper,
                        "help": "least severe log level shown (env FLASHFLOW_LOG_LEVEL, default INFO)"}),
)


class Context:
    """What a subcommand needs: settings, with services resolved on first use, and the outputs."""

    def __init__(self, settings: Settings, console: Console | None = None) -> None:
        self.base_settings = settings
        self.console = console or Console(highlight=False, soft_wrap=True)
        self.err = Console(stderr=True, highlight=False, soft_wrap=True)
        self.out = Output(self.console)

    @cached_property
    def settings(self) -> Settings:
        """Settings with DATABASE_URL and REDIS_URL filled, starting embedded servers if unset."""
        from flashflow_core.embedded.services import ensure_services

        return ensure_services(self.base_settings)

    def fail(self, command: str, message: str, code: ExitCode = ExitCode.FAILED) -> ExitCode:
        """Print `flashflow COMMAND: message` (secrets redacted) on stderr and return `code`."""
        self.err.print(f"flashflow {command}: {redact(message)}", markup=False)
        return code


def version() -> str:
    """This installation's version."""
    return importlib.metadata.version("flashflow-workers")


def _register_all(sub: argparse._SubParsersAction) -> None:
    from workers import (cli_cancel, cli_console, cli_db, cli_dlq, cli_health, cli_queue, cli_schedule,
                         cli_services, cli_show, cli_winners, cli_worker)

    for module in (cli_db, cli_services, cli_winners, cli_show, cli_cancel, cli_worker, cli_schedule, cli_dlq,
                   cli_queue, cli_health, cli_console):
        module.register(sub)


def _add_global_options(parser: argparse.ArgumentParser, default: object) -> None:
    for flags, options in GLOBAL_OPTIONS:
        parser.add_argument(*flags, default=default, **options)
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                _add_global_options(child, argparse.SUPPRESS)  # so a value given before is kept


def build_parser() -> argparse.ArgumentParser:
    """The whole argument parser."""
    parser = argparse.ArgumentParser(
        prog="flashflow",
        description="FlashFlow Workers: Winners Bank pipeline, hook suggestions and scheduled jobs.",
        epilog="Configuration comes from the environment: DATABASE_URL, REDIS_URL and FLASHFLOW_* "
        "(run `flashflow config` to see every setting). Unset URLs start embedded servers under FLASHFLOW_HOME. "
        "Listings print tables on a terminal and tab-separated full values otherwise; --json prints JSON. "
        f"Exit codes: {describe()}.",
    )
    parser.add_argument("--version", action="version", version=f"flashflow {version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _register_all(sub)
    _add_global_options(parser, None)
    return parser


def _command_name(args: argparse.Namespace) -> str:
    words = [args.command] + [v for k, v in vars(args).items()
                              if k != "command" and k.endswith(("_action", "_command")) and isinstance(v, str)]
    return " ".join(words)


def _preflight(args: argparse.Namespace, ctx: Context) -> None:
    """Check the servers the command needs answer; raise outages.ServerProblem if not."""
    needs = getattr(args, "needs", ())
    if not needs:
        return
    settings = ctx.settings
    if "redis" in needs:
        outages.check_redis(settings.redis_url or "")
    if "postgres" in needs:
        outages.check_postgres(settings.database_url or "", require_migrated=getattr(args, "migrated", True))


def main(argv: Sequence[str] | None = None, console: Console | None = None) -> int:
    """Run one subcommand and return its exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    overrides = {name: getattr(args, name) for name in ("log_format", "log_level") if getattr(args, name, None)}
    try:
        settings = load_settings(**overrides)
    except ConfigError as exc:
        print(f"flashflow: {redact(str(exc))}", file=sys.stderr)
        return ExitCode.USAGE
    setup_logging(settings.log_level, settings.log_format)
    ctx = Context(settings, console)
    command = _command_name(args)
    try:
        _preflight(args, ctx)
        return int(args.handler(args, ctx) or ExitCode.OK)
    except ConfigError as exc:
        return ctx.fail(command, str(exc), ExitCode.USAGE)
    except ServiceError as exc:
        return ctx.fail(command, f"embedded servers: {exc}")
    except KeyboardInterrupt:
        return ExitCode.INTERRUPTED
    except Exception as exc:
        resolved = ctx.__dict__.get("settings", settings)  # what was really used, if resolved
        problem = outages.explain(exc, resolved.database_url, resolved.redis_url)
        if problem is None:
            raise
        return ctx.fail(command, str(problem), ExitCode.NOT_MIGRATED if problem.not_migrated else ExitCode.UNAVAILABLE)


def run() -> None:
    """Console-script entry point."""
    install_excepthooks()
    sys.exit(main())


if __name__ == "__main__":
    run()
