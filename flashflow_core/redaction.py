"""Secrets out of everything FlashFlow shows: command output, log lines, error messages, metrics.

Two kinds of secret are hidden:

- passwords in URLs and connection strings: `scheme://user:PASSWORD@host`, `?password=...`
  in a URL's query, `password=...` in a libpq conninfo; found by their shape, so a URL needs no
  registering first;
- the values of secret settings (a setting whose name says key, token, secret or password, such
  as OPENAI_API_KEY or FLASHFLOW_CONSOLE_TOKEN, or one marked `json_schema_extra={"secret": True}`):
  `remember_settings` records them when settings are loaded, and `redact` then replaces their
  exact text wherever it appears (an error message quoting a key, a header in a debug log).

Anything that prints a URL, a setting or a message that may contain either goes through `redact`
or `redact_url`; `flashflow_core.logs` applies `redact` to every log line.
"""

from __future__ import annotations

import re
import sys
import threading
import traceback
from types import TracebackType
from typing import Any
from urllib.parse import unquote

MASK = "****"
# A remembered value shorter than this is not replaced as free text: it would mangle ordinary words.
MIN_REMEMBERED_LEN = 6

_SECRET_NAME = re.compile(r"(^|_)(key|token|secret|password|passwd|pwd|credentials?)($|_)", re.IGNORECASE)
# scheme://user:password@ — the password runs to the last '@' before the end of the authority.
_URL_PASSWORD = re.compile(
    r"(?P<head>\b[a-zA-Z][a-zA-Z0-9+.-]*://[^:@/\s?#'\"<>]*:)(?P<password>[^\s/?#'\"<>]*)@"
)
# ?password=... / &sslpassword=... in a URL query, and password=... in a libpq conninfo string.
_PARAM_PASSWORD = re.compile(
    r"(?P<head>(?:^|[?&;\s,(])(?:password|sslpassword|passwd|pwd|api_key|apikey|access_token)"
    r"\s*=\s*)(?P<password>'(?:[^'\\]|\\.)*'|[^\s&;,')\"]+)",
    re.IGNORECASE,
)

_remembered: set[str] = set()
_lock = threading.Lock()


def is_secret_setting(name: str, extra: dict[str, Any] | None = None) -> bool:
    """Whether a setting (its field or environment name) holds a secret shown only as MASK."""
    return bool((extra or {}).get("secret")) or bool(_SECRET_NAME.search(name))


def remember(*values: str | None) -> None:
    """Hide these exact strings (and their percent-decoded forms) wherever `redact` sees them."""
    with _lock:
        for value in values:
            if not value:
                continue
            for form in {value, unquote(value)}:
                if len(form) >= MIN_REMEMBERED_LEN:
                    _remembered.add(form)


def remember_settings(settings: Any) -> None:
    """Remember the values of a settings object's secret fields and the passwords of its URLs
    (also inside list and mapping settings, such as per-site proxies)."""
    for name, field in type(settings).model_fields.items():
        extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else None
        for value in _strings(getattr(settings, name, None)):
            if is_secret_setting(name, extra):
                remember(value)
            remember(*url_passwords(value))


def _strings(value: object) -> list[str]:
    if hasattr(value, "get_secret_value"):  # pydantic's SecretStr
        value = value.get_secret_value()
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for item in value.items() for part in item for s in _strings(part)]
    if isinstance(value, (list, tuple, set)):
        return [s for part in value for s in _strings(part)]
    return []


def url_passwords(text: str) -> list[str]:
    """The passwords that URLs or conninfo strings in `text` carry."""
    found = [m.group("password") for m in _URL_PASSWORD.finditer(text)]
    found += [m.group("password").strip("'") for m in _PARAM_PASSWORD.finditer(text)]
    return [p for p in found if p]


def redact_url(url: str | None) -> str | None:
    """A URL or connection string with its password replaced by MASK; the user and host stay."""
    return None if url is None else redact(url)


def redact(text: str) -> str:
    """`text` with every password in a URL or conninfo, and every remembered secret, replaced by MASK."""
    if not text:
        return text
    text = _URL_PASSWORD.sub(lambda m: f"{m.group('head')}{MASK}@" if m.group("password") else m.group(0), text)
    text = _PARAM_PASSWORD.sub(lambda m: m.group("head") + MASK, text)
    with _lock:
        secrets = sorted(_remembered, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def redact_setting(name: str, value: object, extra: dict[str, Any] | None = None) -> str:
    """How a setting's value may be shown: MASK for a secret that is set, else its redacted text."""
    if value is None or value == "":
        return "" if value == "" else "None"
    if is_secret_setting(name, extra):
        return MASK
    if isinstance(value, dict):
        return ", ".join(f"{redact(str(k))}={redact(str(v))}" for k, v in value.items())
    if isinstance(value, (list, tuple, set)):
        return ", ".join(redact(str(v)) for v in value)
    return redact(str(value))


def install_excepthooks() -> None:
    """Print uncaught exceptions (main thread and other threads) with their secrets redacted."""

    def hook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        sys.stderr.write(redact("".join(traceback.format_exception(kind, exc, tb))))

    def thread_hook(args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit:
            return
        name = args.thread.name if args.thread is not None else "?"
        text = "".join(traceback.format_exception(args.exc_type, args.exc_value, args.exc_traceback))
        sys.stderr.write(f"Exception in thread {name}:\n{redact(text)}")

    sys.excepthook = hook
    threading.excepthook = thread_hook
