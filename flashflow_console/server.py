"""Running the console: refuse to listen beyond loopback without a token, then serve with uvicorn."""

from __future__ import annotations

import ipaddress
import logging

import uvicorn

from flashflow_console.auth import TokenError, parse_tokens
from flashflow_core.config import Settings

log = logging.getLogger(__name__)


class ConsoleRefused(Exception):
    """The console must not start this way; the message says why (never showing a secret)."""


def is_loopback(host: str) -> bool:
    """Whether `host` only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name may resolve to anything


def check_binding(settings: Settings, host: str) -> None:
    """Raise ConsoleRefused for a bad token, or a non-loopback address without one."""
    secret = settings.console_token.get_secret_value() if settings.console_token else None
    try:
        tokens = parse_tokens(secret)
    except TokenError as exc:
        raise ConsoleRefused(str(exc)) from None
    if not tokens and not is_loopback(host):
        raise ConsoleRefused(f"listening on {host} (not loopback) needs FLASHFLOW_CONSOLE_TOKEN, so that only "
                             "people with a token can act on the queues; see docs/console.md")


def serve(settings: Settings, host: str, port: int) -> int:
    """Serve the console until SIGINT/SIGTERM; return the exit code."""
    from flashflow_console.app import build_app

    check_binding(settings, host)
    app = build_app(settings)
    log.info("console listening", extra={"url": f"http://{host}:{port}{settings.console_root_path}",
                                         "sign_in": app.state.console.auth.required})
    # proxy_headers: the scheme and client address come from X-Forwarded-* of FORWARDED_ALLOW_IPS
    # (uvicorn's default: 127.0.0.1), so a proxy on this host makes the session cookie Secure.
    uvicorn.run(app, host=host, port=port, root_path=settings.console_root_path, proxy_headers=True,
                log_level="warning", access_log=False, server_header=False)
    return 0
