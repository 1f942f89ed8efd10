"""Job functions the supervised tests send to child processes (children import them by name)."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from flashflow_core.adapters import media
from flashflow_core.adapters.base import PermanentError, SiteThrottled
from flashflow_core.supervised import Context

MB = 1024 * 1024


def where(ctx: Context, value: object) -> dict:
    """Where the job ran and what it received."""
    return {"value": value, "pid": os.getpid(), "tmp": str(ctx.tmp), "tempdir": tempfile.gettempdir(),
            "tmpdir_env": os.environ.get("TMPDIR")}


def write_then_hang(ctx: Context, started: str) -> None:
    """Write into the job's folder and the temp folder, start a subprocess, then hang."""
    (ctx.tmp / "partial.bin").write_bytes(b"x" * 4096)
    with tempfile.NamedTemporaryFile(delete=False, suffix=".lib") as stray:  # as a library would
        stray.write(b"y")
    sleeper = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sleeper.sh")
    Path(started).write_text(f"{os.getpid()}\n{stray.name}\n")
    media.run_subprocess(["sh", sleeper, started + ".sub"], timeout=600)


def allocate_without_bound(ctx: Context) -> None:
    """Keep allocating (and touching) memory until stopped."""
    hoard = []
    while True:
        hoard.append(bytearray(b"\x01") * (8 * MB))
        time.sleep(0.005)


def fail_permanently(ctx: Context, words: str) -> None:
    raise PermanentError(words)


def throttled(ctx: Context) -> None:
    raise SiteThrottled("slow down", "example.com", 42.0)


def run_out_of_memory(ctx: Context) -> None:
    raise MemoryError("cannot allocate")


def mark_warm(ctx: Context, folder: str) -> None:
    """A warm-up: leaves this process's pid in `folder`."""
    (Path(folder) / str(os.getpid())).touch()
