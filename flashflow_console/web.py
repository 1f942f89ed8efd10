"""What every page shares: the console's state (settings, pool, Redis, storage, broker), rendering a
template with the signed-in user and CSRF token, one-shot notices after an action, and the filters
templates show values through (`redact`, `redact_url`: no password in a URL or message is shown)."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import jinja2
import redis
from psycopg_pool import ConnectionPool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse
from starlette.templating import Jinja2Templates

from flashflow_console.auth import Auth
from flashflow_core.adapters.base import Storage
from flashflow_core.config import Settings
from flashflow_core.ops import outages
from flashflow_core.ops.dlq import DeadLetterQueues
from flashflow_core.ops.queue_pause import QueuePauses
from flashflow_core.ops.redis_keys import base_queue
from flashflow_core.redaction import redact, redact_url
from flashflow_core.winners.states import ReferenceStatus
from jobs.boot import boot
from jobs.runtime import Runtime

HERE = Path(__file__).resolve().parent
# A page waits at most this long for a database connection or a Redis answer, then says which
# server does not answer (503) instead of hanging for psycopg_pool's 30 s or the kernel's TCP
# timeouts; that also bounds how long a stop (SIGTERM, Ctrl-C) waits for pages in progress.
PAGE_WAIT_S = outages.CONNECT_TIMEOUT_S
templates = Jinja2Templates(env=jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True))


class ConsoleState:
    """Per-process resources of the console; built once when the app is."""

    def __init__(self, settings: Settings, auth: Auth, runtime: Runtime | None = None) -> None:
        self.settings = settings
        self.auth = auth
        # Retry and attach send stage messages through the same boot as the CLI. A caller that has
        # booted already (a test beside its worker) passes its runtime, and keeps closing it.
        self._owns_runtime = runtime is None
        self.runtime = runtime or boot(settings, pool_wait_s=PAGE_WAIT_S)
        self.queues = sorted({base_queue(q) for q in self.runtime.broker.get_declared_queues()})
        self.upload_limit_bytes = int(settings.fetch_max_filesize_mb * 1_000_000)

    @property
    def pool(self) -> ConnectionPool:
        return self.runtime.pool

    @cached_property
    def redis(self) -> redis.Redis:
        """The console's own Redis client, every call bounded by PAGE_WAIT_S."""
        return redis.Redis.from_url(self.settings.redis_url or "", socket_connect_timeout=PAGE_WAIT_S,
                                    socket_timeout=PAGE_WAIT_S)

    @property
    def storage(self) -> Storage:
        return self.runtime.tools.storage

    @cached_property
    def dlq(self) -> DeadLetterQueues:
        return DeadLetterQueues(self.redis, self.settings.broker_namespace)

    @cached_property
    def pauses(self) -> QueuePauses:
        return QueuePauses(self.redis, self.settings.broker_namespace)

    def close(self) -> None:
        if "redis" in self.__dict__:
            self.redis.close()
        if self._owns_runtime:
            self.runtime.close()


def state(request: Request) -> ConsoleState:
    return request.app.state.console


def path(request: Request, name: str, /, **params: Any) -> str:
    """The path (with the proxy's root path) of a named route."""
    return request.url_for(name, **{k: str(v) for k, v in params.items()}).path


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """A page or fragment, with what every template uses."""
    notice = request.state.session.pop("notice", None)
    if notice is not None:
        request.state.session_changed = True
    return templates.TemplateResponse(request, template, {
        "user": request.state.user, "csrf": request.state.session["csrf"], "notice": notice,
        "signed_in": state(request).auth.required, "now": datetime.now(UTC),
        "path": lambda name, /, **params: path(request, name, **params), **context,
    }, status_code=status_code)


def done(request: Request, target: str, text: str, ok: bool = True) -> RedirectResponse:
    """After an action: show `text` once on the next page, and go there (POST-redirect-GET)."""
    request.state.session["notice"] = {"text": text, "ok": ok}
    request.state.session_changed = True
    return RedirectResponse(target, status_code=303)


def age(seconds: float | None) -> str:
    """`42 s`, `3 min`, `2 h 5 min`, `3 d 4 h`."""
    if seconds is None:
        return ""
    s = int(seconds)
    if s < 120:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min"
    if s < 86400:
        return f"{s // 3600} h {s % 3600 // 60} min"
    return f"{s // 86400} d {s % 86400 // 3600} h"


def since(moment: datetime | None) -> str:
    """How long ago `moment` was, as `age` spells it."""
    return age((datetime.now(UTC) - moment).total_seconds()) if moment else ""


# Templates compare statuses by name (ReferenceStatus.FAILED), never by spelling them
# (tests/flashflow_core/winners/test_states.py scans the templates too).
templates.env.globals["ReferenceStatus"] = ReferenceStatus
templates.env.filters["age"] = age
templates.env.filters["redact"] = lambda text: redact(str(text)) if text is not None else ""
templates.env.filters["redact_url"] = lambda url: redact_url(str(url)) if url is not None else ""
templates.env.filters["since"] = since
templates.env.filters["utc"] = lambda m: m.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") if m else ""
