"""Run a command with its standard streams on a real pseudo-terminal, as a person at a terminal
would, for tests of what the CLI prints there (tables, prompts, text logs).

Each of stdin, stdout and stderr is either its own pty (isatty() is true in the child) or a pipe,
so a test can give a terminal to stderr only, or to stdout only.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time
from dataclasses import dataclass

from tests.conftest import ROOT


_ESCAPES = re.compile(r"\x1b(\[[0-9;?]*[A-Za-z]|\][^\x07]*\x07)")


@dataclass
class Ran:
    """What the command printed on each stream (colours and cursor moves removed), and its exit code."""

    code: int
    stdout: str
    stderr: str
    seconds: float


def _pty(columns: int) -> tuple[int, int]:
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    attrs = termios.tcgetattr(slave)
    attrs[1] &= ~termios.ONLCR  # keep "\n" as written (a terminal would print "\r\n")
    termios.tcsetattr(slave, termios.TCSANOW, attrs)
    return master, slave


def run_flashflow(*args: str, env: dict[str, str], tty: tuple[str, ...] = ("stdin", "stdout", "stderr"),
                  answer: str | None = None, columns: int = 120, timeout_s: float = 120) -> Ran:
    """Run `python -m workers.cli ARGS` with the streams named in `tty` on ptys; type `answer`
    (plus Enter) on the terminal stdin once the command has printed something on stderr."""
    masters: dict[str, int] = {}
    child: dict[str, int] = {}
    for name in ("stdin", "stdout", "stderr"):
        if name in tty:
            masters[name], child[name] = _pty(columns)
    pipes = {name: subprocess.PIPE for name in ("stdin", "stdout", "stderr") if name not in tty}
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "workers.cli", *args], cwd=ROOT,
                            env={**env, "COLUMNS": str(columns), "TERM": "xterm"},
                            **{name: child.get(name, pipes.get(name)) for name in ("stdin", "stdout", "stderr")},
                            start_new_session=True)
    for fd in child.values():
        os.close(fd)
    if proc.stdin is not None:
        proc.stdin.close()
    readers = {masters[n]: n for n in ("stdout", "stderr") if n in masters}
    readers.update({getattr(proc, n).fileno(): n for n in ("stdout", "stderr") if n not in masters})
    seen: dict[str, bytes] = {"stdout": b"", "stderr": b""}
    answered = answer is None
    deadline = started + timeout_s
    while readers and time.monotonic() < deadline:
        ready, _, _ = select.select(list(readers), [], [], 0.1)
        for fd in ready:
            try:
                data = os.read(fd, 65536)
            except OSError:  # EIO: the child closed its side of the pty
                data = b""
            if not data:
                del readers[fd]
                continue
            seen[readers[fd]] += data
        if not answered and seen["stderr"]:
            os.write(masters["stdin"], (answer or "").encode() + b"\n")
            answered = True
        if proc.poll() is not None and not ready:
            break
    code = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    for fd in masters.values():
        os.close(fd)
    for name in ("stdout", "stderr"):
        stream = getattr(proc, name)
        if stream is not None:
            seen[name] += stream.read()
            stream.close()
    text = {name: _ESCAPES.sub("", data.decode(errors="replace")) for name, data in seen.items()}
    return Ran(code, text["stdout"], text["stderr"], time.monotonic() - started)
