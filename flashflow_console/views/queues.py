"""Queues: what each holds, and Pause / Resume (workers stop or restart taking its messages)."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from flashflow_console.auth import action, actor
from flashflow_console.views.overview import queue_rows
from flashflow_console.web import done, path, render, state
from flashflow_core.ops.queue_pause import pause_queue, resume_queue


def queues(request: Request) -> HTMLResponse:
    """Every queue with its counts and pause."""
    return render(request, "queues.html", queues=queue_rows(state(request)))


def _change(request: Request, change, did: str, unchanged: str) -> Response:
    console = state(request)
    queue = request.path_params["queue"]
    if queue not in console.queues:
        raise HTTPException(404, f"no queue named {queue!r}")
    with console.pool.connection() as conn:
        changed = change(console.pauses, conn, queue, actor(request))
    return done(request, path(request, "queues"), f"{queue} {did if changed else unchanged}")


@action
async def pause(request: Request, form: FormData) -> Response:
    """Pause a queue: workers take none of its messages until it is resumed (audited)."""
    return await run_in_threadpool(_change, request, pause_queue, "paused: workers take none of its messages "
                                   "until you resume it", "was paused already")


@action
async def resume(request: Request, form: FormData) -> Response:
    """Resume a queue (audited)."""
    return await run_in_threadpool(_change, request, resume_queue, "resumed", "was not paused")
