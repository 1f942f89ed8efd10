"""yt-dlp's networking with the address policy applied to every request, redirect and connection.

`GuardedYoutubeDL` has two request handlers, both changed so that each request's URL is checked
before it is sent (the extractor's page and API calls, the media download, each fragment) and
each redirect's target before it is followed:
- yt-dlp's urllib handler, for ordinary requests. Each connection resolves the host itself,
  checks EVERY address and connects only to those, so a DNS answer that changes between the
  check and the connection (rebinding) is caught at the connection.
- yt-dlp's curl_cffi handler, only for requests that ask for browser impersonation (TikTok).
  libcurl resolves and connects by itself, so redirects are followed here, hop by hop, and each
  hop's checked addresses are pinned with CURLOPT_RESOLVE: libcurl connects to those only.
A refusal travels through yt-dlp as `GuardError`, a RequestError that carries our AdapterError.
`on_connect`, when given, is called with each urllib connection's socket once it is connected
(TLS included), so the downloader can stop a read that blocks (see ytdlp's `_Watch`).

Through a proxy (fetch_access.ProxyRoute), the target is resolved and checked here exactly as
without one, and the proxy is asked to tunnel (`CONNECT address:port`) to the checked address,
never to a host name it would resolve by itself; TLS then runs through the tunnel to the real
host name, so certificates are still checked against it. urllib opens the tunnel in
`guarded_connection`; libcurl is told the same with CURLOPT_CONNECT_TO. Proxies from the
environment are never used. Left out on purpose: yt-dlp's requests handler, and FTP, file and
data URLs.
"""

from __future__ import annotations

import functools
import http.client
import socket
import urllib.request
from collections.abc import Callable
from typing import Any
from urllib.parse import urljoin

import curl_cffi.requests
import yt_dlp
from curl_cffi._wrapper import ffi as curl_ffi, lib as curl_lib
from curl_cffi.const import CurlOpt
from yt_dlp.networking._curlcffi import CurlCFFIRH
from yt_dlp.networking._helper import get_redirect_method
from yt_dlp.networking._urllib import HTTPHandler, RedirectHandler, UrllibRH
from yt_dlp.networking.exceptions import RequestError

from flashflow_core.adapters.base import AdapterError, PermanentError, TransientError
from flashflow_core.adapters.fetch_access import ProxyRoute
from flashflow_core.adapters.netguard import AddressPolicy, check_scheme

_REDIRECT_CODES = (301, 302, 303, 307, 308)


class GuardError(RequestError):
    """Carries one of our errors through yt-dlp's request stack unchanged."""

    def __init__(self, error: AdapterError) -> None:
        super().__init__(str(error))
        self.error = error


def guarded_connection(policy: AddressPolicy, address: tuple[str, int], timeout: Any = None,
                       source_address: tuple[str, int] | None = None, proxy: ProxyRoute | None = None
                       ) -> socket.socket:
    """Resolve, check every address, then connect to one of exactly those addresses (through a
    tunnel of `proxy` to that address, when given)."""
    host, port = address
    try:
        infos = policy.resolve(host, port)
    except AdapterError as exc:
        raise GuardError(exc) from exc
    if proxy is not None:
        return _tunnel(proxy, [str(info[4][0]) for info in infos], port, timeout, source_address)
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


def _tunnel(proxy: ProxyRoute, addresses: list[str], port: int, timeout: Any,
            source_address: tuple[str, int] | None) -> socket.socket:
    """A socket through `proxy` to one of exactly `addresses` (HTTP CONNECT), ready for HTTP or TLS."""
    refusal: GuardError | None = None
    for address in addresses:
        target = f"[{address}]:{port}" if ":" in address else f"{address}:{port}"
        sock, status_line = _connect_request(proxy, target, timeout, source_address)
        status = status_line.split(" ", 2)[1] if status_line.count(" ") else ""
        if status == "200":
            return sock
        sock.close()
        if status == "407":
            raise GuardError(PermanentError(f"the {proxy} refused our credentials (407): check the user and "
                                            "password in FLASHFLOW_FETCH_PROXY / FLASHFLOW_FETCH_SITE_PROXIES"))
        refusal = GuardError(TransientError(f"the {proxy} would not connect to {target}: {status_line or 'no answer'}"))
    assert refusal is not None
    raise refusal


def _connect_request(proxy: ProxyRoute, target: str, timeout: Any,
                     source_address: tuple[str, int] | None) -> tuple[socket.socket, str]:
    """Ask the proxy for a tunnel to `target`; return the socket and the proxy's status line."""
    seconds = timeout if isinstance(timeout, (int, float)) else None
    try:
        sock = socket.create_connection((proxy.host, proxy.port), timeout=seconds, source_address=source_address)
    except OSError as exc:
        raise GuardError(TransientError(f"the {proxy} does not answer: {exc.strerror or exc}")) from exc
    try:
        auth = f"Proxy-Authorization: {proxy.authorization}\r\n" if proxy.authorization else ""
        sock.sendall(f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n{auth}\r\n".encode("latin-1"))
        head = b""
        while b"\r\n\r\n" not in head:  # byte by byte: nothing after the answer may be taken from TLS
            chunk = sock.recv(1)
            if not chunk or len(head) > 65536:
                raise OSError("the proxy closed the connection before answering CONNECT")
            head += chunk
    except OSError as exc:
        sock.close()
        raise GuardError(TransientError(f"the {proxy} failed: {exc.strerror or exc}")) from exc
    return sock, head.split(b"\r\n", 1)[0].decode("latin-1")


OnConnect = Callable[[socket.socket], None]


class _GuardedHTTPHandler(HTTPHandler):
    def __init__(self, policy: AddressPolicy, on_connect: OnConnect | None = None,
                 proxy: ProxyRoute | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._policy = policy
        self._on_connect = on_connect
        self._proxy = proxy

    def _connection(self, conn_class: type[http.client.HTTPConnection], *args: Any, **kwargs: Any):
        conn = conn_class(*args, **kwargs)
        conn._create_connection = functools.partial(  # type: ignore[attr-defined]
            guarded_connection, self._policy, proxy=self._proxy)
        if self._on_connect is not None:
            conn.connect = functools.partial(_connect_then_report, conn, conn.connect, self._on_connect)
        if self._source_address is not None:
            conn.source_address = (self._source_address, 0)
        return conn

    def http_open(self, req: urllib.request.Request):
        return self.do_open(functools.partial(self._connection, http.client.HTTPConnection), req)

    def https_open(self, req: urllib.request.Request):
        return self.do_open(functools.partial(self._connection, http.client.HTTPSConnection), req,
                            context=self._context)


def _connect_then_report(conn: http.client.HTTPConnection, connect: Callable[[], None], on_connect: OnConnect) -> None:
    connect()
    on_connect(conn.sock)


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
                raise _refuse_redirect(exc, newurl) from exc
        return super().http_error_302(req, fp, code, msg, headers)

    http_error_301 = http_error_303 = http_error_307 = http_error_308 = http_error_302


class _GuardedUrllibRH(UrllibRH):
    """yt-dlp's urllib handler with the address policy applied to every request and redirect."""

    _SUPPORTED_URL_SCHEMES = ("http", "https")

    def __init__(self, *, policy: AddressPolicy, on_connect: OnConnect | None = None,
                 proxy: ProxyRoute | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._policy = policy
        self._on_connect = on_connect
        self._proxy = proxy

    def _create_instance(self, proxies, cookiejar, legacy_ssl_support=None):  # noqa: ANN001 - yt-dlp's signature
        opener = urllib.request.OpenerDirector()
        # No ProxyHandler: it would let the proxy resolve and connect; our connection tunnels instead.
        for handler in (
            _GuardedHTTPHandler(
                self._policy, self._on_connect, self._proxy, debuglevel=0, source_address=self.source_address,
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


def _refuse_redirect(exc: AdapterError, newurl: str) -> GuardError:
    return GuardError(type(exc)(f"{exc} (the URL redirected to {newurl})"))


class _GuardedCurlSession(curl_cffi.requests.Session):
    """A curl_cffi session that follows redirects itself and pins every hop to checked addresses."""

    def __init__(self, policy: AddressPolicy, proxy: ProxyRoute | None = None, **kwargs: Any) -> None:
        super().__init__(trust_env=False, **kwargs)
        self._policy = policy
        self._proxy = proxy
        self._base_options = dict(self.curl_options)
        self._slists: list[Any] = []  # CONNECT_TO lists libcurl points at, freed on close

    def _connect_to(self, entry: str) -> Any:
        # curl_cffi builds slists only for a few options; CONNECT_TO takes one built here, kept
        # alive until the session closes (a streamed response's duplicated handle points at it).
        slist = curl_lib.curl_slist_append(curl_ffi.NULL, entry.encode())
        self._slists.append(slist)
        return slist

    def close(self) -> None:
        try:
            super().close()
        finally:
            for slist in self._slists:
                curl_lib.curl_slist_free_all(slist)
            self._slists.clear()

    def _pin(self, url: str) -> None:
        try:
            parts = check_scheme(url)
            port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
            infos = self._policy.resolve(parts.hostname or "", port)
        except (AdapterError, ValueError) as exc:
            raise GuardError(exc if isinstance(exc, AdapterError) else PermanentError(f"invalid URL {url}")) from exc
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        shown = ",".join(f"[{a}]" if ":" in a else a for a in addresses)
        options = {
            **self._base_options,
            CurlOpt.RESOLVE: [f"{parts.hostname}:{port}:{shown}"],
            CurlOpt.PROXY: "",  # an empty proxy also stops libcurl reading *_proxy variables
            CurlOpt.PROTOCOLS_STR: "http,https",
            CurlOpt.FOLLOWLOCATION: 0,
        }
        if self._proxy is not None:  # a tunnel to the first checked address, for http as for https
            host = f"[{parts.hostname}]" if ":" in (parts.hostname or "") else parts.hostname
            first = shown.split(",")[0]
            options.update({CurlOpt.PROXY: self._proxy.url, CurlOpt.HTTPPROXYTUNNEL: 1,
                            CurlOpt.CONNECT_TO: self._connect_to(f"{host}:{port}:{first}:{port}")})
        self.curl_options = options

    def request(self, method: str, url: str, *args: Any, max_redirects: int | None = None,
                allow_redirects: Any = None, **kwargs: Any) -> Any:
        limit = 0 if allow_redirects is False else (5 if max_redirects is None else max_redirects)
        headers = dict(kwargs.pop("headers", None) or {})
        for hop in range(limit + 1):
            self._pin(url)
            response = super().request(method, url, *args, headers=headers, allow_redirects=False, **kwargs)
            location = response.headers.get("location")
            if response.status_code not in _REDIRECT_CODES or not location or limit == 0:
                return response
            response.close()
            if hop == limit:
                break
            newurl = urljoin(url, location)
            try:
                self._policy.check_url(newurl)
            except AdapterError as exc:
                raise _refuse_redirect(exc, newurl) from exc
            new_method = get_redirect_method(method, response.status_code)
            dropped = {"cookie"} | ({"content-type", "content-length"} if new_method != method else set())
            headers = {k: v for k, v in headers.items() if k.lower() not in dropped}
            if new_method != method:
                kwargs["data"] = None
            method, url = new_method, newurl
        raise GuardError(PermanentError(f"the URL redirected more than {limit} times"))


class _GuardedCurlCFFIRH(CurlCFFIRH):
    """yt-dlp's curl_cffi handler (browser impersonation) on the guarded session."""

    def __init__(self, *, policy: AddressPolicy, proxy: ProxyRoute | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._policy = policy
        self._proxy = proxy

    def _create_instance(self, cookiejar=None):  # noqa: ANN001 - yt-dlp's signature
        return _GuardedCurlSession(self._policy, self._proxy, cookies=cookiejar)


class GuardedYoutubeDL(yt_dlp.YoutubeDL):
    """A YoutubeDL whose only request handlers are the guarded ones."""

    def __init__(self, params: dict[str, Any], policy: AddressPolicy, on_connect: OnConnect | None = None,
                 proxy: ProxyRoute | None = None) -> None:
        self._policy = policy
        self._on_connect = on_connect
        self._proxy = proxy
        super().__init__(params)

    @functools.cached_property
    def _request_director(self):
        return self.build_request_director(
            [functools.partial(_GuardedUrllibRH, policy=self._policy, on_connect=self._on_connect, proxy=self._proxy),
             functools.partial(_GuardedCurlCFFIRH, policy=self._policy, proxy=self._proxy)],
            # curl_cffi only where impersonation is asked for (urllib cannot do it), as yt-dlp does.
            [lambda handler, request: -100 if isinstance(handler, _GuardedCurlCFFIRH) else 0],
        )
