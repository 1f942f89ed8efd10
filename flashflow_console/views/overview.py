"""The overview: queues, workers, Winners Bank counts and the scheduler, refreshed every few seconds."""

from __future__ import annotations

import time
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse

from flashflow_console.web import ConsoleState, render, state
from flashflow_core.ops import worker_registry
from flashflow_core.ops.metrics import queue_state
from flashflow_core.scheduling.ledger import last_fires, leader
from flashflow_core.winners.report import status_report


def queue_rows(console: ConsoleState) -> list[dict[str, Any]]:
    """Each queue: what it holds in Redis and whether it is paused."""
    client, ns = console.redis, console.settings.broker_namespace
    now_ms = int(time.time() * 1000)
    paused = console.pauses.paused()
    return [{"name": q, "state": queue_state(client, ns, q, now_ms), "pause": paused.get(q)}
            for q in console.queues]


def worker_rows(console: ConsoleState) -> list[dict[str, Any]]:
    """Every `flashflow worker` process in the registry (producers never write it), newest beat
    first, with how long ago it beat and whether that is within the heartbeat timeout."""
    now_ms = int(time.time() * 1000)
    rows = []
    for entry in worker_registry.entries(console.redis, console.settings.broker_namespace):
        age_s = entry.beat_age_s(now_ms)
        rows.append({"worker": entry, "age_s": age_s, "alive": age_s < console.settings.heartbeat_timeout_s})
    return rows


def _context(request: Request) -> dict[str, Any]:
    console = state(request)
    report = status_report(console.pool, failures=5)
    with console.pool.connection() as conn:
        scheduler = leader(conn)
        fires = sorted(last_fires(conn).values(), key=lambda f: f["fire_time"], reverse=True)
    return {"queues": queue_rows(console), "workers": worker_rows(console), "report": report,
            "leader": scheduler, "fires": fires, "heartbeat_timeout": console.settings.heartbeat_timeout_s}


def overview(request: Request) -> HTMLResponse:
    """The whole page."""
    return render(request, "overview.html", **_context(request))


def overview_live(request: Request) -> HTMLResponse:
    """The part that htmx refreshes."""
    return render(request, "_overview_live.html", **_context(request))
