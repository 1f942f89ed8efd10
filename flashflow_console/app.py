"""The console's web application: routes, sign-in, security headers and static files.

`build_app(settings)` returns a Starlette app; `flashflow_console.server.serve` runs it with uvicorn.
Pages are rendered on the server (Jinja2); htmx (vendored in static/, no build step, nothing
fetched at run time) refreshes the overview and a moving row in place.
"""

from __future__ import annotations

import asyncio
import secrets
from contextlib import asynccontextmanager

import psycopg
import redis
from dramatiq.errors import ConnectionError as BrokerConnectionError
from psycopg_pool import PoolTimeout
from starlette.applications import Starlette
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from flashflow_console.auth import Auth, SessionMiddleware, action, parse_tokens, safe_next
from flashflow_console.views import dead_letters, overview, queues, references, schedules
from flashflow_console.web import HERE, ConsoleState, done, path, render
from flashflow_core.config import Settings
from flashflow_core.ops import outages
from jobs.runtime import Runtime

# Scripts only from this site (htmx), no inline script or style, no framing, no plugins.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self'; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
FAILED_SIGN_IN_DELAY_S = 1.0
SECURITY_HEADERS = [(b"content-security-policy", CSP.encode()), (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"same-origin"), (b"x-frame-options", b"DENY")]


def login_form(request: Request) -> Response:
    """The sign-in form (only when FLASHFLOW_CONSOLE_TOKEN is set)."""
    if not request.app.state.console.auth.required:
        return RedirectResponse(path(request, "overview"), status_code=303)
    return render(request, "login.html", next=safe_next(request.query_params.get("next")), failed=False)


@action
async def login(request: Request, form: FormData) -> Response:
    """Check the token; on success the session names its holder."""
    auth = request.app.state.console.auth
    name = auth.check_secret(str(form.get("token") or "")) if auth.required else auth.local_user
    target = safe_next(str(form.get("next") or "/"))
    if name is None:
        await asyncio.sleep(FAILED_SIGN_IN_DELAY_S)  # guessing is slow (the secrets are long anyway)
        return render(request, "login.html", status_code=401, next=target, failed=True)
    request.state.session.clear()
    request.state.session.update(user=name, csrf=secrets.token_urlsafe(32))  # a fresh CSRF token once signed in
    return done(request, (request.scope.get("root_path") or "") + target, f"signed in as {name}")


@action
async def logout(request: Request, form: FormData) -> Response:
    """End the session."""
    request.state.session.clear()
    request.state.session["csrf"] = secrets.token_urlsafe(32)
    return done(request, path(request, "login_form"), "signed out")


def _server_down(request: Request, exc: Exception) -> Response:
    """Postgres or Redis stopped answering while the console runs: one line naming which (by host
    and port), not a traceback, within PAGE_WAIT_S; the overview keeps its last figures while htmx
    retries."""
    settings = request.app.state.console.settings
    problem = outages.explain(exc, settings.database_url, settings.redis_url)
    return render(request, "error.html", status_code=503, message=str(problem or "a server did not answer"),
                  hint="The console keeps running: this page works again once the server answers.")


async def _http_error(request: Request, exc: HTTPException) -> Response:
    if exc.status_code in (404, 405, 400):
        return render(request, "error.html", status_code=exc.status_code, message=exc.detail)
    return Response(exc.detail, status_code=exc.status_code)


ROUTES = [
    Route("/", overview.overview, name="overview"),
    Route("/overview/live", overview.overview_live, name="overview_live"),
    Route("/references", references.reference_list, name="references"),
    Route("/references/{reference_id}", references.reference_page, name="reference"),
    Route("/references/{reference_id}/live", references.reference_live, name="reference_live"),
    Route("/references/{reference_id}/video", references.reference_video, name="reference_video"),
    Route("/references/{reference_id}/retry", references.retry, methods=["POST"], name="retry"),
    Route("/references/{reference_id}/cancel", references.cancel, methods=["POST"], name="cancel"),
    Route("/references/{reference_id}/attach-file", references.attach_file, methods=["POST"], name="attach_file"),
    Route("/references/{reference_id}/attach-transcript", references.attach_transcript, methods=["POST"],
          name="attach_transcript"),
    Route("/dead-letters", dead_letters.dead_letters, name="dead_letters"),
    Route("/dead-letters/confirm", dead_letters.confirm, name="dead_letters_confirm"),
    Route("/dead-letters/requeue", dead_letters.requeue, methods=["POST"], name="dead_letters_requeue"),
    Route("/dead-letters/purge", dead_letters.purge, methods=["POST"], name="dead_letters_purge"),
    Route("/queues", queues.queues, name="queues"),
    Route("/queues/{queue}/pause", queues.pause, methods=["POST"], name="pause_queue"),
    Route("/queues/{queue}/resume", queues.resume, methods=["POST"], name="resume_queue"),
    Route("/schedules", schedules.schedules, name="schedules"),
    Route("/schedules/{name}/run", schedules.run_now, methods=["POST"], name="run_schedule"),
    Route("/login", login_form, name="login_form"),
    Route("/login", login, methods=["POST"], name="login"),
    Route("/logout", logout, methods=["POST"], name="logout"),
    Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
]


class SecurityHeaders:
    """Adds the security headers to every response."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        async def with_headers(message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + SECURITY_HEADERS
            await send(message)

        await self.app(scope, receive, with_headers if scope["type"] == "http" else send)


def build_app(settings: Settings, runtime: Runtime | None = None) -> Starlette:
    """The console for these settings (URLs resolved), booting jobs unless given a runtime.
    Raises TokenError for a bad FLASHFLOW_CONSOLE_TOKEN."""
    token = settings.console_token.get_secret_value() if settings.console_token else None
    auth = Auth(parse_tokens(token))
    console = ConsoleState(settings, auth, runtime)

    @asynccontextmanager
    async def lifespan(app: Starlette):
        yield
        console.close()

    down = dict.fromkeys((psycopg.OperationalError, PoolTimeout, redis.ConnectionError, redis.TimeoutError,
                          BrokerConnectionError), _server_down)
    app = Starlette(routes=ROUTES, lifespan=lifespan, exception_handlers={HTTPException: _http_error, **down})
    app.state.console = console
    app.add_middleware(SessionMiddleware, auth=auth)
    app.add_middleware(SecurityHeaders)
    return app
