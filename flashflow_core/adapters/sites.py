"""Which site a URL belongs to, for per-site limits and throttle pauses (tiktok.com, 127.0.0.1)."""

from __future__ import annotations

from urllib.parse import urlsplit

ALIASES = {"youtu.be": "youtube.com", "vm.tiktok.com": "tiktok.com", "vt.tiktok.com": "tiktok.com",
            "instagr.am": "instagram.com"}


def site_of(url: str) -> str:
    """The URL's host without subdomains (`www.`, `m.`), short-link hosts folded into their site."""
    host = (urlsplit(url).hostname or "").lower()
    if host in ALIASES:
        return ALIASES[host]
    parts = host.split(".")
    if len(parts) > 2 and not host.replace(".", "").isdigit() and ":" not in host:
        host = ".".join(parts[-2:])
    return host
