"""What a supervised job receives and what comes back: the values both sides of the socket share."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flashflow_core.adapters.toolkit import Toolkit
from flashflow_core.config import Settings


#: What a child sends once it is ready for jobs.
READY = "ready"


@dataclass(frozen=True)
class Context:
    """Passed to every job function: the settings, the process's adapters (built once, so models
    stay loaded between jobs) and the job's private temp folder (removed whatever happens)."""

    settings: Settings
    tools: Toolkit
    tmp: Path


@dataclass(frozen=True)
class Hello:
    """The first message a child receives: what it needs before any job."""

    settings: Settings
    parent_pid: int
    data_limit_bytes: int  # RLIMIT_DATA of the child and what it starts; 0: none


@dataclass(frozen=True)
class Job:
    """One call: `func(context, *args)`, named by import path so the child can find it."""

    func: str
    args: tuple[Any, ...]
    tmp: str
    wall_s: float
    log_fields: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    """What a job came to in the child: its value, or its exception (and whether memory ran out)."""

    value: Any = None
    error: BaseException | None = None
    trace: str = ""
    out_of_memory: bool = False


def func_path(func: Callable[..., Any]) -> str:
    """`module:qualname` of a module-level function (what a child imports); a function of a script
    run with `python -m` is named by its module's import name."""
    module = func.__module__
    if module == "__main__" and getattr(sys.modules["__main__"], "__spec__", None) is not None:
        module = sys.modules["__main__"].__spec__.name
    path = f"{module}:{func.__qualname__}"
    if "<" in func.__qualname__ or _where(resolve(path)) != _where(func):
        raise ValueError(f"{path} is not a module-level function a child process can import")
    return path


def _where(func: Any) -> tuple[str, int] | None:
    code = getattr(func, "__code__", None)
    return (code.co_filename, code.co_firstlineno) if code is not None else None


def resolve(path: str) -> Callable[..., Any]:
    """The function named by `module:qualname`."""
    module, _, name = path.partition(":")
    target: Any = importlib.import_module(module)
    for part in name.split("."):
        target = getattr(target, part)
    return target
