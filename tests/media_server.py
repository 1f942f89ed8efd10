"""A loopback HTTP server for tests that fetch media: files from a folder plus programmable routes.

`MediaServer` serves `root/<name>` at `/files/<name>` and any route added with `add_*`:
status answers (404, 500, 429 with Retry-After...), redirects, HTML pages, bodies sent without
Content-Length (chunked or until close), slow answers, and sequences of answers (a server that
fails, then recovers). Hostile servers too: `add_trickle` sends a body at a few bytes a second
(announcing any Content-Length, or without end), `add_hang` never answers. Every request is
counted in `hits`; `peak_in_flight(path)` is the most requests for a path answered at once.
Start one with `serve(host=...)` (port 0: the OS picks), or use the `media_server` fixture.
"""

from __future__ import annotations

import mimetypes
import re
import select
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, unquote

import pytest


@dataclass
class Route:
    """What the server answers on one path."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    send_length: bool = True  # False: no Content-Length; `chunked` picks how the end is marked
    chunked: bool = True
    delay_s: float = 0.0  # before the status line
    chunk_delay_s: float = 0.0  # between 64 KiB chunks of the body
    hang: bool = False  # read the request, then never answer (until the server stops)
    trickle_bytes_per_s: float = 0.0  # > 0: after `fast_bytes`, send the body this slowly
    fast_bytes: int = 0
    endless: bool = False  # repeat the body without end (trickled)
    declared_length: int | None = None  # the Content-Length to announce instead of the body's
    require_cookie: str | None = None  # "name=value" the request must carry, else 403 (login-only videos)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        pass

    def do_HEAD(self) -> None:
        self._answer(head=True)

    def do_GET(self) -> None:
        self._answer(head=False)

    def _answer(self, head: bool) -> None:
        path = unquote(self.path.split("?", 1)[0])
        with self.server.lock:
            self.server.hits.append((self.command, self.path))
            self.server.in_flight[path] = self.server.in_flight.get(path, 0) + 1
            self.server.peak[path] = max(self.server.peak.get(path, 0), self.server.in_flight[path])
        try:
            self._respond(path, head)
        finally:
            with self.server.lock:
                self.server.in_flight[path] -= 1

    def _respond(self, path: str, head: bool) -> None:
        route = self.server.next_route(path) or self.server.file_route(path)
        if route is None:
            route = Route(404, b"not found", {"Content-Type": "text/plain"})
        if route.require_cookie and route.require_cookie not in self.headers.get("Cookie", "").split("; "):
            route = Route(403, b"log in to watch this video", {"Content-Type": "text/plain"})
        if route.hang:
            self.server.stopping.wait()
            self.close_connection = True
            return
        if route.delay_s:
            time.sleep(route.delay_s)
        body = route.body
        status = route.status
        headers = dict(route.headers)
        match = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range", ""))
        if match and status == 200 and route.send_length:
            start = int(match[1])
            end = min(int(match[2]) if match[2] else len(body) - 1, len(body) - 1)
            headers["Content-Range"] = f"bytes {start}-{end}/{len(body)}"
            body, status = body[start:end + 1], 206
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if route.send_length:
            self.send_header("Content-Length", str(route.declared_length or len(body)))
        elif route.chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if head:
            return
        try:
            self._write_body(body, route)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (size limit, timeout): expected in tests

    def _write_body(self, body: bytes, route: Route) -> None:
        if route.trickle_bytes_per_s:
            self._trickle(body, route)
            return
        step = 64 * 1024
        for start in range(0, len(body), step):
            piece = body[start:start + step]
            if route.chunk_delay_s and start:
                time.sleep(route.chunk_delay_s)
            if not route.send_length and route.chunked:
                self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            else:
                self.wfile.write(piece)
        if not route.send_length and route.chunked:
            self.wfile.write(b"0\r\n\r\n")


    def _trickle(self, body: bytes, route: Route) -> None:
        """The first `fast_bytes` at once, then a piece every 0.5 s at the route's rate, until the
        body (or the announced length) is sent, the client goes away or the server stops."""
        total = None if route.endless else (route.declared_length or len(body))
        source = body or b"\0"
        sent = 0

        def piece(n: int) -> bytes:
            start = sent % len(source)
            return (source[start:] + source * (n // len(source) + 1))[:n]

        if route.fast_bytes:
            self.wfile.write(piece(route.fast_bytes))
            self.wfile.flush()
            sent += route.fast_bytes
        step = max(1, int(route.trickle_bytes_per_s * 0.5))
        while (total is None or sent < total) and not self._client_gone(step / route.trickle_bytes_per_s):
            n = step if total is None else min(step, total - sent)
            self.wfile.write(piece(n))
            self.wfile.flush()
            sent += n
        self.close_connection = True


    def _client_gone(self, wait_s: float) -> bool:
        """Wait `wait_s`; True as soon as the client closed its end (or the server is stopping), so
        a request counts as in flight exactly while the client keeps its connection."""
        deadline = time.monotonic() + wait_s
        while (left := deadline - time.monotonic()) > 0:
            if self.server.stopping.is_set():
                return True
            readable, _, _ = select.select([self.connection], [], [], min(left, 0.05))
            if readable:
                try:
                    if self.connection.recv(1, socket.MSG_PEEK) == b"":
                        return True
                except OSError:
                    return True
                time.sleep(min(left, 0.05))  # data, not the end: the client sent more; keep time
        return self.server.stopping.is_set()


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, host: str, root: Path) -> None:
        super().__init__((host, 0), _Handler)
        self.root = root
        self.routes: dict[str, list[Route]] = {}
        self.hits: list[tuple[str, str]] = []
        self.in_flight: dict[str, int] = {}
        self.peak: dict[str, int] = {}
        self.lock = threading.Lock()
        self.stopping = threading.Event()  # ends hanging and trickling answers

    def next_route(self, path: str) -> Route | None:
        """The route's next answer: answers are given in order and the last one repeats."""
        with self.lock:
            answers = self.routes.get(path)
            if not answers:
                return None
            return answers.pop(0) if len(answers) > 1 else answers[0]

    def file_route(self, path: str) -> Route | None:
        if not path.startswith("/files/"):
            return None
        name = path.removeprefix("/files/")
        target = (self.root / name).resolve()
        if not target.is_relative_to(self.root.resolve()) or not target.is_file():
            return None
        kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        return Route(200, target.read_bytes(), {"Content-Type": kind})


class MediaServer:
    """A running loopback server; `url(path)` builds addresses, `hits` lists (method, path) received."""

    def __init__(self, server: _Server) -> None:
        self._server = server
        self.root = server.root
        self.host, self.port = server.server_address[:2]

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}/{quote(path.lstrip('/'))}"

    @property
    def hits(self) -> list[tuple[str, str]]:
        with self._server.lock:
            return list(self._server.hits)

    def peak_in_flight(self, path: str) -> int:
        """The most requests for `path` that were being answered at the same moment."""
        with self._server.lock:
            return self._server.peak.get("/" + path.lstrip("/"), 0)

    def in_flight(self, path: str) -> int:
        """Requests for `path` being answered now."""
        with self._server.lock:
            return self._server.in_flight.get("/" + path.lstrip("/"), 0)

    def hit_count(self, path: str | None = None) -> int:
        """Requests received, all or for one path (query string ignored)."""
        wanted = "/" + path.lstrip("/") if path is not None else None
        return sum(1 for _, p in self.hits if wanted is None or unquote(p.split("?", 1)[0]) == wanted)

    def add(self, path: str, *routes: Route) -> str:
        """Answer `routes` on `path`, one per request in order, the last one repeating; return the URL."""
        with self._server.lock:
            self._server.routes["/" + path.lstrip("/")] = list(routes)
        return self.url(path)

    def add_file(self, path: str, src: Path, content_type: str = "video/mp4", **options: object) -> str:
        """Serve a file's bytes on `path` (Route options such as send_length=False apply)."""
        return self.add(path, Route(200, src.read_bytes(), {"Content-Type": content_type}, **options))

    def add_bytes(self, path: str, body: bytes, content_type: str = "video/mp4", **options: object) -> str:
        return self.add(path, Route(200, body, {"Content-Type": content_type}, **options))

    def add_status(self, path: str, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> str:
        """Answer with an error status, e.g. 404, 500, or 429 with {"Retry-After": "120"}."""
        return self.add(path, Route(status, body, {"Content-Type": "text/plain", **(headers or {})}))

    def add_redirect(self, path: str, location: str, status: int = 302) -> str:
        return self.add(path, Route(status, b"", {"Location": location}))

    def add_html(self, path: str, html: str) -> str:
        return self.add(path, Route(200, html.encode(), {"Content-Type": "text/html; charset=utf-8"}))

    def add_trickle(self, path: str, body: bytes, bytes_per_s: float = 1.0, content_type: str = "video/mp4",
                    **options: object) -> str:
        """Send `body` at `bytes_per_s` (options: fast_bytes first, endless, declared_length, send_length)."""
        return self.add(path, Route(200, body, {"Content-Type": content_type}, trickle_bytes_per_s=bytes_per_s,
                                    **options))

    def add_hang(self, path: str) -> str:
        """Accept requests on `path` and never answer them."""
        return self.add(path, Route(hang=True))


@contextmanager
def serve(root: Path, host: str = "127.0.0.1") -> Iterator[MediaServer]:
    """Run a MediaServer on `host` (a free port) for the duration of the block."""
    root.mkdir(parents=True, exist_ok=True)
    server = _Server(host, root)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield MediaServer(server)
    finally:
        server.stopping.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def media_server(tmp_path: Path) -> Iterator[MediaServer]:
    """A MediaServer on 127.0.0.1 serving tmp_path/served at /files/."""
    with serve(tmp_path / "served") as server:
        yield server
