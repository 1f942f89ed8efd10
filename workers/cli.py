"""The `flashflow` command line: one function per subcommand, `main(argv) -> exit code`.

Subcommands live in small modules (`workers/cli_*.py`), each with a `register(subparsers)`
that adds its parsers and sets `handler` to a function `(args, ctx) -> int`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from functools import cached_property

from rich.console import Console

from flashflow_core.config import ConfigError, Settings, load_settings
from flashflow_core.embedded.common import ServiceError
from flashflow_core.logs import setup_logging
from flashflow_core.redaction import install_excepthooks, redact

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


class Context:
    """What a subcommand needs: settings, with services resolved on first use, and the console."""

    def __init__(self, settings: Settings, console: Console | None = None) -> None:
        self.base_settings = settings
        self.console = console or Console(highlight=False, soft_wrap=True)
        self.err = Console(stderr=True, highlight=False, soft_wrap=True)

    @cached_property
    def settings(self) -> Settings:
        """Settings with DATABASE_URL and REDIS_URL filled, starting embedded servers if unset."""
        from flashflow_core.embedded.services import ensure_services

        return ensure_services(self.base_settings)


def _register_all(sub: argparse._SubParsersAction) -> None:
    from workers import (cli_cancel, cli_console, cli_db, cli_dlq, cli_health, cli_queue, cli_schedule,
                         cli_services, cli_winners, cli_worker)

    for module in (cli_db, cli_services, cli_winners, cli_cancel, cli_worker, cli_schedule, cli_dlq, cli_queue,
                   cli_health, cli_console):
        module.register(sub)


def build_parser() -> argparse.ArgumentParser:
    """The whole argument parser."""
    parser = argparse.ArgumentParser(
        prog="flashflow",
        description="FlashFlow Workers: Winners Bank pipeline, hook suggestions and scheduled jobs.",
        epilog="Configuration comes from the environment: DATABASE_URL, REDIS_URL and FLASHFLOW_* "
        "(run `flashflow config` to see every setting). Unset URLs start embedded servers under FLASHFLOW_HOME.",
    )
    parser.add_argument("--log-format", choices=["json", "text"], help="log line format (env FLASHFLOW_LOG_FORMAT)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _register_all(sub)
    return parser


def main(argv: Sequence[str] | None = None, console: Console | None = None) -> int:
    """Run one subcommand and return its exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        overrides = {"log_format": args.log_format} if args.log_format else {}
        settings = load_settings(**overrides)
    except ConfigError as exc:
        print(f"flashflow: {redact(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    setup_logging(settings.log_level, settings.log_format)
    ctx = Context(settings, console)
    try:
        return int(args.handler(args, ctx) or EXIT_OK)
    except ConfigError as exc:
        ctx.err.print(f"flashflow: {redact(str(exc))}", markup=False)
        return EXIT_USAGE
    except ServiceError as exc:
        ctx.err.print(f"flashflow: embedded servers: {redact(str(exc))}", markup=False)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130


def run() -> None:
    """Console-script entry point."""
    install_excepthooks()
    sys.exit(main())


if __name__ == "__main__":
    run()
