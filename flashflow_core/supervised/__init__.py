"""Heavy work in supervised child processes, so its limits hold even inside C code.

A Dramatiq time limit is an exception raised between Python bytecodes of the worker thread: it
cannot stop a blocking read in yt-dlp, a Whisper call in CTranslate2 or an ffmpeg subprocess.
A child process can always be stopped. `ChildPool` (the parent side, `pool.py`) keeps long-lived
children (`child.py`) that run one job at a time with the adapters built once, so models stay
loaded between videos; each job has a wall-clock limit, a memory cap and a private temp folder,
and a child that runs over is killed with everything it started. `InThread` runs the same jobs
in the calling thread, for the instant stand-in toolkit and for comparison in the benchmark.
"""

from flashflow_core.supervised.context import Context, Job
from flashflow_core.supervised.pool import (
    ChildCancelled,
    ChildDied,
    ChildFailure,
    ChildOutOfMemory,
    ChildPool,
    ChildTimedOut,
    InThread,
    Runner,
)

__all__ = [
    "ChildCancelled", "ChildDied", "ChildFailure", "ChildOutOfMemory", "ChildPool", "ChildTimedOut",
    "Context", "InThread", "Job", "Runner",
]
