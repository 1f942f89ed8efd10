"""`flashflow healthcheck`: exit 0 when Postgres and Redis answer (and, with --worker, when this
machine's worker has sent a heartbeat lately). For compose health checks and orchestrators; it
never starts embedded servers."""

from __future__ import annotations

import argparse
import time

from flashflow_core.ops import outages
from flashflow_core.redaction import redact
from workers.exit_codes import ExitCode


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("healthcheck", help="exit 0 when Postgres, Redis (and with --worker, this worker) are fine",
                       description=cmd_healthcheck.__doc__)
    p.add_argument("--worker", action="store_true",
                   help="also require a fresh worker heartbeat file (env FLASHFLOW_HEALTH_FILE)")
    p.add_argument("--max-age", type=float, metavar="S",
                   help="oldest acceptable heartbeat, seconds (default: 4 x FLASHFLOW_BROKER_MAINTENANCE_INTERVAL_S, "
                   "at least 30)")
    p.set_defaults(handler=cmd_healthcheck)


def problems(settings, worker: bool, max_age_s: float | None) -> list[str]:
    """What is wrong, one line each; empty when healthy."""
    found = []
    if not settings.database_url:
        found.append("DATABASE_URL is not set")
    else:
        try:
            outages.check_postgres(settings.database_url, require_migrated=False)
        except outages.ServerProblem as exc:
            found.append(str(exc))
    if not settings.redis_url:
        found.append("REDIS_URL is not set")
    else:
        try:
            outages.check_redis(settings.redis_url)
        except outages.ServerProblem as exc:
            found.append(str(exc))
    if worker:
        limit = max_age_s or max(30.0, 4 * settings.broker_maintenance_interval_s)
        path = settings.worker_health_file
        try:
            age = time.time() - path.stat().st_mtime
        except FileNotFoundError:
            found.append(f"no worker heartbeat file at {path} (is `flashflow worker` running here?)")
        else:
            if age > limit:
                found.append(f"the worker's last heartbeat was {age:.0f} s ago (limit {limit:.0f} s)")
    return found


def cmd_healthcheck(args: argparse.Namespace, ctx) -> int:
    """Check Postgres and Redis answer; with --worker, that this machine's worker beats. Exit 0 or 1."""
    found = problems(ctx.base_settings, args.worker, args.max_age)
    for line in found:
        ctx.err.print(f"unhealthy: {redact(line)}", markup=False)
    if not found:
        ctx.console.print("healthy", markup=False)
    return ExitCode.FAILED if found else ExitCode.OK
