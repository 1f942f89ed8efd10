"""The exit codes of every `flashflow` command, in one place (scripts and orchestrators read them).

`flashflow --help` lists them; docs/operations.md explains them.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """What a `flashflow` command's exit status means."""

    OK = 0
    FAILED = 1  # it ran, and something it was asked to do failed (a URL refused, unhealthy, a row not retryable)
    USAGE = 2  # bad arguments or configuration (argparse exits 2 as well)
    NOT_FOUND = 3  # no row or message matches the id, prefix, URL or message id given
    UNAVAILABLE = 4  # Postgres or Redis could not be reached in time: try again later
    NOT_MIGRATED = 5  # the database lacks FlashFlow's tables or has pending migrations: run `flashflow migrate`
    INTERRUPTED = 130  # Ctrl-C (128 + SIGINT), as shells report it


def describe() -> str:
    """One line per code, for `flashflow --help`."""
    words = {
        ExitCode.OK: "success",
        ExitCode.FAILED: "something the command was asked to do failed",
        ExitCode.USAGE: "bad arguments or configuration",
        ExitCode.NOT_FOUND: "no row or message matches",
        ExitCode.UNAVAILABLE: "Postgres or Redis did not answer",
        ExitCode.NOT_MIGRATED: "the database needs `flashflow migrate`",
        ExitCode.INTERRUPTED: "interrupted",
    }
    return ", ".join(f"{int(code)} {words[code]}" for code in ExitCode)
