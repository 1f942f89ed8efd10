"""yt-dlp's failures in plain words: `download_error` turns whatever yt-dlp raised (its own
exception tree, an HTTP status, or only a message after its retries) into PermanentError,
TransientError or SiteThrottled, so the domain never sees yt-dlp's exceptions.
"""

from __future__ import annotations

import email.utils
import re
import time

from yt_dlp.networking.exceptions import HTTPError, TransportError
from yt_dlp.utils import ContentTooShortError, ExtractorError, GeoRestrictedError, UnsupportedError

from flashflow_core.adapters.base import AdapterError, PermanentError, SiteThrottled, TransientError
from flashflow_core.adapters.ytdlp_guard import GuardError

_THROTTLED = re.compile(
    r"not a bot|ip address is blocked|ip blocked|your ip|rate.?limit|too many requests|temporarily blocked", re.I
)
_HTTP_TEXT = re.compile(r"HTTP Error (\d{3}):? ?([A-Za-z' -]*)")
_NETWORK_TEXT = re.compile(
    r"timed out|connection (?:reset|refused|aborted)|broken pipe|incomplete ?read|bytes read|"
    r"network is unreachable|temporary failure in name resolution|eof occurred",
    re.I,
)
_GONE = (
    (re.compile(r"private", re.I), "the video is private"),
    (re.compile(r"log(ged)? ?in|sign ?in|cookies|members.only|subscri", re.I), "the video needs a logged-in account"),
    (re.compile(r"removed|deleted|terminated|no longer available|does not exist|not exist", re.I),
     "the video was removed"),
    (re.compile(r"unavailable|not available|copyright", re.I), "the video is unavailable"),
    (re.compile(r"age.?(restricted|gate|verif)|inappropriate", re.I), "the video is age-restricted"),
)


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception and everything it wraps (yt-dlp's exc_info and cause, Python's __cause__)."""
    seen: list[BaseException] = []
    todo = [exc]
    while todo and len(seen) < 20:
        current = todo.pop(0)
        if current is None or any(current is s for s in seen):
            continue
        seen.append(current)
        exc_info = getattr(current, "exc_info", None)
        todo += [exc_info[1] if isinstance(exc_info, tuple) and len(exc_info) > 1 else None,
                 getattr(current, "cause", None) if isinstance(getattr(current, "cause", None), BaseException)
                 else None,
                 getattr(current, "reason", None) if isinstance(getattr(current, "reason", None), BaseException)
                 else None,
                 current.__cause__, current.__context__]
    return seen


def _plain(exc: BaseException) -> str:
    text = getattr(exc, "orig_msg", None) or str(exc)
    text = re.sub(r"^(ERROR: )?(\[[^\]]+\] )?([\w-]+: )?", "", text.strip())
    return re.sub(r";? ?please report this issue on .*$", "", text, flags=re.S | re.I).strip()


def _retry_after(error: HTTPError) -> float | None:
    value = error.response.get_header("Retry-After") if error.response is not None else None
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    when = email.utils.parsedate_to_datetime(value) if email.utils.parsedate_tz(value) else None
    return max(0.0, when.timestamp() - time.time()) if when else None


def _from_http(status: int, reason: str, site: str, after: float | None = None) -> AdapterError:
    answered = f"the server answered {status} {reason}".rstrip()
    if status == 429:
        wait = f"; it asks us to wait {after:.0f} s" if after is not None else ""
        return SiteThrottled(f"{site} is limiting our requests ({status} Too Many Requests){wait}", site, after)
    if status == 404:
        return PermanentError(f"{answered}: the video is gone or the URL is wrong")
    if status == 410:
        return PermanentError(f"{answered}: the video was removed")
    if status == 401:
        return PermanentError(f"{answered}: the video needs a logged-in account")
    if status == 403:
        return PermanentError(f"{answered}: access is refused (the video is private, or the site blocks us)")
    if status in (408, 425) or status >= 500:
        return TransientError(f"{answered}: a problem on the server's side; it may work later")
    return PermanentError(f"{answered}: the server refused the request")


def _network_error(site: str, text: str, detail: str) -> TransientError:
    what = "timed out" if "timed out" in text.lower() else "failed"
    return TransientError(f"the connection to {site} {what}: {detail}")


def download_error(exc: BaseException, site: str) -> AdapterError:
    """Turn a yt-dlp failure into PermanentError, TransientError or SiteThrottled, in plain words."""
    chain = _chain(exc)
    for error in chain:
        if isinstance(error, GuardError):
            return error.error
        if isinstance(error, AdapterError):
            return error
    for error in chain:
        if isinstance(error, HTTPError):
            return _from_http(error.status, error.reason or "", site, _retry_after(error))
    text = " ".join(_plain(e) for e in chain)
    answered = _HTTP_TEXT.search(text)  # after retries, the download reports the status only as text
    if answered:
        return _from_http(int(answered[1]), answered[2].strip(), site)
    if _THROTTLED.search(text):
        return SiteThrottled(f"{site} is blocking or rate-limiting us: {_plain(exc)}", site)
    for error in chain:
        if isinstance(error, GeoRestrictedError):
            return PermanentError(f"the video is not available in this server's country (geo-blocked): "
                                  f"{_plain(error)}")
        if isinstance(error, UnsupportedError):
            return PermanentError("the page is HTML, not a video (no video found on it)")
        if isinstance(error, (TransportError, ContentTooShortError, TimeoutError, ConnectionError)):
            return _network_error(site, text, _plain(error))
    if _NETWORK_TEXT.search(text):
        return _network_error(site, text, _plain(exc))
    if "did not get any data blocks" in text.lower():
        return PermanentError("the file is empty")
    if "requested format is not available" in text.lower():
        return PermanentError("the site offers no downloadable format for this video")
    for pattern, meaning in _GONE:
        if pattern.search(text):
            return PermanentError(f"{meaning}: {_plain(exc)}")
    extractor_error = next((e for e in chain if isinstance(e, ExtractorError)), None)
    if extractor_error is not None and not extractor_error.expected:
        return TransientError(f"yt-dlp could not read the page (the site may have changed): {_plain(exc)}")
    if extractor_error is not None:
        return PermanentError(f"the site says: {_plain(extractor_error)}")
    return TransientError(f"the download failed: {_plain(exc)}")
