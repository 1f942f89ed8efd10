"""One canonical form per reference URL, so the same video submitted twice is stored once.

Every URL: lower-case scheme and host, no default port, no fragment, no user info, tracking
parameters removed (utm_*, fbclid, si, share_*...), the rest sorted. For the sites the fetcher
knows, yt-dlp's own URL patterns (no network call) give the video id and the URL is rebuilt:

- YouTube (watch, Shorts, youtu.be, embed, live, m./music.): https://www.youtube.com/watch?v=ID.
  Shorts fold into the watch form: it is the same video and the same file, so one row.
- TikTok: https://www.tiktok.com/@user/video/ID (`@_` for embed links, which name no user).
  Short links (vm.tiktok.com, tiktok.com/t/...) are kept as they are: expanding them needs a request.
- Instagram posts, reels and TV: https://www.instagram.com/p/ID/.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from re import Match
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from yt_dlp.extractor.instagram import InstagramIE
from yt_dlp.extractor.tiktok import TikTokIE
from yt_dlp.extractor.youtube import YoutubeIE

_DEFAULT_PORTS = {"http": 80, "https": 443}
_TRACKING = frozenset({
    "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid", "ttclid", "mc_cid", "mc_eid",
    "igshid", "igsh", "si", "_r", "_t", "_ga", "_gl", "is_from_webapp", "is_copy_url", "sender_device",
    "sender_web_id", "ref_src", "ref_url",
})
_TRACKING_PREFIXES = ("utm_", "share_")
_HOST = re.compile(r"[a-z0-9.\-_]+|\[[0-9a-f:.]+\]")


def _youtube(match: Match[str]) -> str:
    return f"https://www.youtube.com/watch?v={match['id']}"


def _tiktok(match: Match[str]) -> str:
    user = (match["user_id"] or "_").lower()
    return f"https://www.tiktok.com/@{user}/video/{match['id']}"


def _instagram(match: Match[str]) -> str:
    return f"https://www.instagram.com/p/{match['id']}/"


_CANONICAL: tuple[tuple[Callable[[str], Match[str] | None], Callable[[Match[str]], str]], ...] = (
    (YoutubeIE._match_valid_url, _youtube),
    (TikTokIE._match_valid_url, _tiktok),
    (InstagramIE._match_valid_url, _instagram),
)


def _is_tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered in _TRACKING or lowered.startswith(_TRACKING_PREFIXES)


def _netloc(scheme: str, url: str) -> str:
    parts = urlsplit(url)
    if parts.username is not None or parts.password is not None:
        raise ValueError(f"URLs with a user name or password are not accepted: {url}")
    try:
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"the URL has an invalid port: {url}") from exc
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise ValueError(f"the URL has no host name: {url}")
    try:
        ascii_host = host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError as exc:
        raise ValueError(f"the URL's host name is not valid: {url}") from exc
    shown = f"[{ascii_host}]" if ":" in ascii_host else ascii_host
    if not _HOST.fullmatch(shown):
        raise ValueError(f"the URL's host name is not valid: {url}")
    return shown if port in (None, _DEFAULT_PORTS[scheme]) else f"{shown}:{port}"


def normalize_url(url: str) -> str:
    """The canonical form of a video URL; ValueError with a clear message for anything else."""
    text = url.strip()
    if not text:
        raise ValueError("the URL is empty")
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise ValueError(f"the URL contains spaces or control characters: {text!r}")
    scheme = urlsplit(text).scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise ValueError(f"only http and https URLs are accepted (got {scheme or 'no scheme'}): {text}")
    parts = urlsplit(text)
    query = sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k))
    cleaned = urlunsplit(
        (scheme, _netloc(scheme, text), parts.path or "/", urlencode(query, quote_via=quote), "")
    )
    for match_url, canonical in _CANONICAL:
        match = match_url(cleaned)
        if match is None and not urlsplit(cleaned).hostname.startswith("www."):
            match = match_url(cleaned.replace("://", "://www.", 1))  # tiktok.com/@u/video/1 and the like
        if match:
            return canonical(match)
    return cleaned
