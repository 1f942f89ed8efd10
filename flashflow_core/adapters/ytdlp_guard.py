"""yt-dlp's networking with the address policy applied to every request, redirect and connection.

`GuardedYoutubeDL` has a single request handler: yt-dlp's urllib handler, changed so that
- each request's URL is checked before it is sent (the extractor's page and API calls, the media
  download, each fragment);
- each redirect's target is checked before it is followed;
- each connection resolves the host itself, checks EVERY address, and connects only to those
  addresses, so a DNS answer that changes between the check and the connection (rebinding) is
  caught at the connection.
A refusal travels through yt-dlp as `GuardError`, a RequestError that carries our AdapterError.

Left out on purpose: proxies; the requests and curl_cffi handlers (they resolve and follow
redirects where we cannot check), so sites that want browser impersonation may refuse us; and
FTP, file and data URLs.
"""

from __future__ import annotations

import functools
import http.client
import socket
import urllib.request
from typing import Any
from urllib.parse import urljoin

import yt_dlp
from yt_dlp.networking._urllib import HTTPHandler, RedirectHandler, UrllibRH
from yt_dlp.networking.exceptions import RequestError

from flashflow_core.adapters.base import AdapterError
from flashflow_core.adapters.netguard import AddressPolicy


class GuardError(RequestError):
    """Carries one of our errors through yt-dlp's request stack unchanged."""

    def __init__(self, error: AdapterError) -> None:
        super().__init__(str(error))
        self.error = error


def guarded_connection(policy: AddressPolicy, address: tuple[str, int], timeout: Any = None,
                       source_address: tuple[str, int] | None = None) -> socket.socket:
    """Resolve, check every address, then connect to one of exactly those addresses."""
    host, port = address
    try:
        infos = policy.resolve(host, port)
    except AdapterError as exc:
        raise GuardError(exc) from exc
    last: OSError | None = None
    for family, kind, proto, _, sockaddr in infos:
        sock = socket.socket(family, kind, proto)
        try:
            if isinstance(timeout, (int, float)):
                sock.settimeout(timeout)
            if source_address:
                sock.bind(source_address)
            sock.connect(sockaddr)
            return sock
        except OSError as exc:
            sock.close()
            last = exc
    assert last is not None
    raise last


class _GuardedHTTPHandler(HTTPHandler):
    def __init__(self, policy: AddressPolicy, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._policy = policy

    def _connection(self, conn_class: type[http.client.HTTPConnection], *args: Any, **kwargs: Any):
        conn = conn_class(*args, **kwargs)
        conn._create_connection = functools.partial(guarded_connection, self._policy)  # type: ignore[attr-defined]
        if self._source_address is not None:
            conn.source_address = (self._source_address, 0)
        return conn

    def http_open(self, req: urllib.request.Request):
        return self.do_open(functools.partial(self._connection, http.client.HTTPConnection), req)

    def https_open(self, req: urllib.request.Request):
        return self.do_open(functools.partial(self._connection, http.client.HTTPSConnection), req,
                            context=self._context)


class _GuardedRedirectHandler(RedirectHandler):
    def __init__(self, policy: AddressPolicy) -> None:
        super().__init__()
        self._policy = policy

    def http_error_302(self, req, fp, code, msg, headers):  # noqa: ANN001 - urllib's signature
        location = headers.get("location") or headers.get("uri")
        if location:
            newurl = urljoin(req.full_url, location)
            try:
                self._policy.check_url(newurl)
            except AdapterError as exc:
                fp.close()
                raise GuardError(type(exc)(f"{exc} (the URL redirected to {newurl})")) from exc
        return super().http_error_302(req, fp, code, msg, headers)

    http_error_301 = http_error_303 = http_error_307 = http_error_308 = http_error_302


class _GuardedUrllibRH(UrllibRH):
    """yt-dlp's urllib handler with the address policy applied to every request and redirect."""

    _SUPPORTED_URL_SCHEMES = ("http", "https")

    def __init__(self, *, policy: AddressPolicy, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._policy = policy

    def _create_instance(self, proxies, cookiejar, legacy_ssl_support=None):  # noqa: ANN001 - yt-dlp's signature
        opener = urllib.request.OpenerDirector()
        # No ProxyHandler: through a proxy, the proxy would resolve and connect, not this guard.
        for handler in (
            _GuardedHTTPHandler(
                self._policy, debuglevel=0, source_address=self.source_address,
                context=self._make_sslcontext(legacy_ssl_support=legacy_ssl_support),
            ),
            urllib.request.HTTPCookieProcessor(cookiejar),
            urllib.request.UnknownHandler(),
            urllib.request.HTTPDefaultErrorHandler(),
            urllib.request.HTTPErrorProcessor(),
            _GuardedRedirectHandler(self._policy),
        ):
            opener.add_handler(handler)
        opener.addheaders = []
        return opener

    def _send(self, request):  # noqa: ANN001 - yt-dlp's signature
        try:
            self._policy.check_url(request.url)
        except AdapterError as exc:
            raise GuardError(exc) from exc
        return super()._send(request)


class GuardedYoutubeDL(yt_dlp.YoutubeDL):
    """A YoutubeDL whose only request handler is the guarded one."""

    def __init__(self, params: dict[str, Any], policy: AddressPolicy) -> None:
        self._policy = policy
        super().__init__(params)

    @functools.cached_property
    def _request_director(self):
        return self.build_request_director([functools.partial(_GuardedUrllibRH, policy=self._policy)])
