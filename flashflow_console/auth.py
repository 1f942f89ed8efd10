"""Who is using the console, and proof that a form was sent by the console's own page.

- **Tokens** (`FLASHFLOW_CONSOLE_TOKEN`): one secret, or `NAME:SECRET` pairs. A person signs in
  once on the login form (a signed, HttpOnly, SameSite=Strict session cookie follows); a script
  sends `Authorization: Bearer SECRET`. Secrets are compared in constant time, each one every
  time, and never logged or shown. With no token the console serves loopback only, unsigned-in,
  and its actor is the operating-system user that runs it.
- **CSRF**: every state-changing request is a POST carrying the session's random token (a hidden
  form field, or the `X-CSRF-Token` header for htmx); `action()` checks it before the handler
  runs. A bearer-token request carries no ambient credential, so it needs none.
"""

from __future__ import annotations

import getpass
import hashlib
import hmac
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

SESSION_COOKIE = "ff_console"
SESSION_MAX_AGE_S = 12 * 3600
MIN_SECRET_CHARS = 16
_NAME = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")


class TokenError(ValueError):
    """FLASHFLOW_CONSOLE_TOKEN cannot be used; the message says why without showing any secret."""


@dataclass(frozen=True)
class Token:
    name: str
    secret: bytes


def parse_tokens(value: str | None) -> list[Token]:
    """The tokens in `SECRET` or `NAME:SECRET[,NAME:SECRET...]`; an unnamed secret is named `operator`."""
    if not value or not value.strip():
        return []
    tokens: list[Token] = []
    for position, entry in enumerate((e.strip() for e in value.split(",")), start=1):
        name, sep, secret = entry.partition(":")
        if not sep:
            name, secret = "operator", entry
        if not _NAME.match(name):
            raise TokenError(f"FLASHFLOW_CONSOLE_TOKEN entry {position}: the name before ':' may hold only "
                             "letters, digits and _ . @ - (1-64 characters)")
        if len(secret) < MIN_SECRET_CHARS:
            raise TokenError(f"FLASHFLOW_CONSOLE_TOKEN entry {position} ({name}): the secret is shorter than "
                             f"{MIN_SECRET_CHARS} characters")
        if any(t.name == name for t in tokens):
            raise TokenError(f"FLASHFLOW_CONSOLE_TOKEN: the name {name!r} is given twice")
        tokens.append(Token(name, secret.encode()))
    return tokens


class Auth:
    """Signs sessions, checks secrets and CSRF tokens for one console process."""

    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        # With tokens, sessions are signed with a key derived from them, so several console processes
        # behind one proxy accept each other's sessions and changing the tokens signs everyone out.
        key = (hashlib.sha256(b"flashflow-console-session\0" + b"\0".join(t.secret for t in tokens)).digest()
               if tokens else secrets.token_bytes(32))
        self._signer = URLSafeTimedSerializer(key, salt="flashflow-console")
        self.local_user = getpass.getuser()

    @property
    def required(self) -> bool:
        return bool(self.tokens)

    def check_secret(self, presented: str) -> str | None:
        """The name of the token whose secret this is, or None; every secret is compared, in constant time."""
        given = presented.encode()
        found = None
        for token in self.tokens:
            if hmac.compare_digest(given, token.secret):
                found = token.name
        return found

    # ---- the session cookie ----------------------------------------------------------------

    def load_session(self, request: Request) -> dict[str, Any] | None:
        """The signed session the request carries; None when it has none, or one that is expired,
        forged or signed with other tokens."""
        raw = request.cookies.get(SESSION_COOKIE)
        if raw:
            try:
                data = self._signer.loads(raw, max_age=SESSION_MAX_AGE_S)
                if isinstance(data, dict) and isinstance(data.get("csrf"), str):
                    return data
            except BadSignature:
                pass
        return None

    def save_session(self, request: Request, response: Response, session: dict[str, Any]) -> None:
        response.set_cookie(SESSION_COOKIE, self._signer.dumps(session), max_age=SESSION_MAX_AGE_S,
                            httponly=True, samesite="strict", secure=request.url.scheme == "https",
                            path=request.scope.get("root_path") or "/")

    # ---- who is asking ---------------------------------------------------------------------

    def user(self, request: Request) -> str | None:
        """The signed-in name (token name, or the local user when no token is set); None when unknown."""
        if not self.required:
            return self.local_user
        bearer = _bearer(request)
        if bearer is not None:
            return self.check_secret(bearer)
        return request.state.session.get("user")


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def actor(request: Request) -> str:
    """The audit trail's name for whoever sent this request."""
    return f"console:{request.state.user}"


Handler = Callable[[Request, FormData], Awaitable[Response]]


def action(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Wrap a POST handler: parse its form (uploads up to the fetch size limit), refuse it without
    the session's CSRF token unless it came with a bearer token, then run it."""

    async def endpoint(request: Request) -> Response:
        limit = request.app.state.console.upload_limit_bytes
        length = request.headers.get("content-length")
        if length is None or not length.isdigit():  # browsers always send it; without it the size is unknown
            return PlainTextResponse("refused: a form must say its size (Content-Length)", status_code=411)
        if int(length) > limit:
            return PlainTextResponse(f"too large: uploads are limited to {limit // 1_000_000} MB "
                                     "(FLASHFLOW_FETCH_MAX_FILESIZE_MB)", status_code=413)
        form = await request.form(max_files=1, max_fields=200)
        try:
            auth: Auth = request.app.state.console.auth
            if not (auth.required and _bearer(request) is not None):
                sent = request.headers.get("x-csrf-token") or form.get("csrf")
                if not isinstance(sent, str) or not hmac.compare_digest(sent.encode(),
                                                                        request.state.session["csrf"].encode()):
                    return PlainTextResponse("refused: this form is stale or did not come from the console "
                                             "(missing or wrong CSRF token); reload the page and try again",
                                             status_code=403)
            return await handler(request, form)
        finally:
            await form.close()

    endpoint.__name__ = handler.__name__
    endpoint.__doc__ = handler.__doc__
    return endpoint


PUBLIC_PATHS = ("/login", "/static/")


class SessionMiddleware:
    """Loads the session cookie, decides who is asking, sends unknown people to the login form,
    and writes the session back when a handler changed it."""

    def __init__(self, app, auth: Auth) -> None:
        self.app = app
        self.auth = auth

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        session = self.auth.load_session(request)
        request.state.session_changed = session is None  # a new session is sent back with the response
        request.state.session = session if session is not None else {"csrf": secrets.token_urlsafe(32)}
        user = self.auth.user(request)
        request.state.user = user
        path = scope["path"].removeprefix(scope.get("root_path", "")) or "/"
        if user is None and not path.startswith(PUBLIC_PATHS):
            if _bearer(request) is not None or request.method != "GET":
                response: Response = PlainTextResponse("sign in first: FLASHFLOW_CONSOLE_TOKEN is set",
                                                       status_code=401,
                                                       headers={"WWW-Authenticate": 'Bearer realm="flashflow"'})
            else:
                target = path + (f"?{scope['query_string'].decode()}" if scope.get("query_string") else "")
                response = RedirectResponse(f"{scope.get('root_path', '')}/login?{urlencode({'next': target})}",
                                            status_code=303)
            self._persist(request, response)
            await response(scope, receive, send)
            return

        async def send_with_session(message) -> None:
            if message["type"] == "http.response.start" and request.state.session_changed:
                headers = Response()
                self.auth.save_session(request, headers, request.state.session)
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + [
                    (k, v) for k, v in headers.raw_headers if k == b"set-cookie"]
            await send(message)

        await self.app(scope, receive, send_with_session)

    def _persist(self, request: Request, response: Response) -> None:
        if request.state.session_changed:
            self.auth.save_session(request, response, request.state.session)


def safe_next(target: str | None) -> str:
    """A redirect target after sign-in: a path on this site only."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"
