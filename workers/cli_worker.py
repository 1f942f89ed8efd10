"""`flashflow worker`: run Dramatiq workers for some or all queues."""

from __future__ import annotations

import argparse
import os

from workers.exit_codes import ExitCode
from workers.worker import ALL_QUEUES, run_worker, supervise


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("worker", help="run workers (all queues by default)", description=cmd_worker.__doc__)
    p.add_argument("--queues", nargs="+", choices=ALL_QUEUES, metavar="QUEUE",
                   help=f"queues to consume (default: all of {', '.join(ALL_QUEUES)})")
    p.add_argument("--threads", type=int, help="worker threads per process (env FLASHFLOW_WORKER_THREADS)")
    p.add_argument("--processes", type=int, help="worker processes, each restarted if it dies "
                   "(env FLASHFLOW_WORKER_PROCESSES)")
    p.set_defaults(handler=cmd_worker, needs=("redis", "postgres"))


def cmd_worker(args: argparse.Namespace, ctx) -> int:
    """Consume messages until SIGTERM/SIGINT. `--queues transcribe` makes a transcription-only worker."""
    threads = args.threads or ctx.settings.worker_threads
    if threads < 1 or (args.processes is not None and args.processes < 1):
        return ctx.fail("worker", "--threads and --processes take a number of at least 1", ExitCode.USAGE)
    processes = args.processes or ctx.settings.worker_processes
    if processes > 1:
        child = ["worker", "--processes", "1", "--threads", str(threads)]
        if args.queues:
            child += ["--queues", *args.queues]
        env = {**os.environ, "DATABASE_URL": ctx.settings.database_url, "REDIS_URL": ctx.settings.redis_url}
        return supervise(child, processes, env)
    return run_worker(ctx.settings, args.queues, threads)
