"""Killing a stage child together with everything it started."""

from __future__ import annotations

import contextlib
import os
import signal


def kill_session(sid: int) -> None:
    """SIGKILL every process in session `sid`: the child's own process group and any group a member
    made for a subprocess (run_subprocess gives ffmpeg one). Called from inside the session (a
    child's watchdog), the caller goes last."""
    me = os.getpid()
    inside = os.getsid(0) == sid
    if not inside:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(sid, signal.SIGKILL)  # first, so the child starts nothing new meanwhile
    for pid in _members(sid):
        if pid != me:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(sid, signal.SIGKILL)


def _members(sid: int) -> list[int]:
    try:
        names = os.listdir("/proc")
    except OSError:  # no /proc: only the process group is reached
        return []
    found = []
    for name in names:
        if name.isdigit():
            with contextlib.suppress(OSError):
                if os.getsid(int(name)) == sid:
                    found.append(int(name))
    return found
