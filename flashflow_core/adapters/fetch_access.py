"""How the fetcher reaches a site: which cookies it sends and which proxy it goes through.

Cookies: FLASHFLOW_FETCH_COOKIES_DIR holds one Netscape-format file per site, named after the
site as `site_of` names it (`tiktok.com.txt`, `instagram.com.txt`); a fetch from that site sends
those cookies (login-only videos). Each fetch reads a private copy, so yt-dlp never writes the
operator's file and concurrent fetches never race on it.

Proxy: FLASHFLOW_FETCH_PROXY (an `http://[user:pass@]host:port` proxy) for every site, and
FLASHFLOW_FETCH_SITE_PROXIES (`site=URL,...`; `direct` for none) per site. Naming a proxy is its
allowlisting: the fetcher may connect to that host and port, and only as a proxy. Targets are
still checked by the address policy, and the proxy is asked to tunnel (`CONNECT`) to the checked
address itself, never to a host name it would resolve on its own (see ytdlp_guard).
"""

from __future__ import annotations

import base64
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.cookiejar import LoadError
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from yt_dlp.cookies import YoutubeDLCookieJar

from flashflow_core.adapters.base import PermanentError
from flashflow_core.adapters.sites import site_of

DIRECT = "direct"


@dataclass(frozen=True)
class ProxyRoute:
    """A proxy to tunnel through: where it is and the credentials it wants."""

    host: str
    port: int
    user: str | None = None
    password: str | None = None

    @classmethod
    def parse(cls, url: str) -> ProxyRoute:
        """A route from `http://[user:pass@]host:port`; ValueError naming what is wrong."""
        parts = urlsplit(url.strip())
        if parts.scheme.lower() != "http":
            raise ValueError(f"only http:// proxies are supported (got {parts.scheme or 'no scheme'}://)")
        try:
            port = parts.port or 80
        except ValueError as exc:
            raise ValueError("the proxy URL has an invalid port") from exc
        if not parts.hostname:
            raise ValueError("the proxy URL has no host")
        if parts.path not in ("", "/") or parts.query:
            raise ValueError("a proxy URL is http://[user:password@]host:port, without a path")
        user = unquote(parts.username) if parts.username else None
        password = unquote(parts.password) if parts.password else None
        return cls(parts.hostname, port, user, password)

    @property
    def url(self) -> str:
        """The URL libcurl is given (credentials included)."""
        auth = ""
        if self.user is not None:
            auth = quote(self.user, safe="") + (f":{quote(self.password, safe='')}" if self.password else "") + "@"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{auth}{host}:{self.port}"

    @property
    def authorization(self) -> str | None:
        """The Proxy-Authorization header value, when the proxy has credentials."""
        if self.user is None:
            return None
        token = base64.b64encode(f"{self.user}:{self.password or ''}".encode()).decode("ascii")
        return f"Basic {token}"

    def __str__(self) -> str:  # never the password
        return f"proxy {self.host}:{self.port}"


def parse_site_proxies(text: str) -> dict[str, str]:
    """`site=URL,site=direct` into {site: URL or 'direct'}; ValueError naming a bad entry."""
    found: dict[str, str] = {}
    for entry in (part.strip() for part in text.split(",")):
        if not entry:
            continue
        site, sep, url = entry.partition("=")
        site, url = site.strip().lower(), url.strip()
        if not sep or not site or not url:
            raise ValueError(f"{entry!r} is not site=URL (or site=direct)")
        if url.lower() != DIRECT:
            ProxyRoute.parse(url)
        found[site] = DIRECT if url.lower() == DIRECT else url
    return found


class FetchAccess:
    """Cookies and proxy for each site, from settings."""

    def __init__(self, cookies_dir: Path | None, proxy: str | None, site_proxies: dict[str, str]) -> None:
        self.cookies_dir = cookies_dir
        self.proxy = ProxyRoute.parse(proxy) if proxy else None
        self.site_proxies = {site: None if url == DIRECT else ProxyRoute.parse(url)
                             for site, url in site_proxies.items()}

    def proxy_for(self, url: str) -> ProxyRoute | None:
        """The proxy a fetch of `url` goes through, or None (direct)."""
        site = site_of(url)
        return self.site_proxies[site] if site in self.site_proxies else self.proxy

    def cookies_file(self, url: str) -> Path | None:
        """The site's cookies file, when there is one."""
        if self.cookies_dir is None:
            return None
        path = self.cookies_dir / f"{site_of(url)}.txt"
        return path if path.is_file() else None

    @contextmanager
    def cookies_copy(self, url: str) -> Iterator[Path | None]:
        """A private, checked copy of the site's cookies file for one fetch (deleted after), or None."""
        source = self.cookies_file(url)
        if source is None:
            yield None
            return
        with tempfile.TemporaryDirectory(prefix="flashflow-cookies-") as folder:
            copy = Path(folder) / "cookies.txt"
            shutil.copyfile(source, copy)
            copy.chmod(0o600)
            load_cookies(copy, shown=source)
            yield copy


def load_cookies(path: Path, shown: Path | None = None) -> YoutubeDLCookieJar:
    """Read a Netscape cookies file as yt-dlp will; PermanentError naming the file when it is not one."""
    jar = YoutubeDLCookieJar(str(path))
    try:
        jar.load(ignore_discard=True, ignore_expires=True)
    except (LoadError, OSError, UnicodeDecodeError) as exc:
        raise PermanentError(f"{shown or path} is not a cookies file in Netscape format "
                             f"(FLASHFLOW_FETCH_COOKIES_DIR): {exc}") from exc
    return jar
