"""A loopback HTTP proxy for tests: it tunnels `CONNECT host:port` requests and records each one.

Like a forward proxy a company or a residential-proxy service runs, it connects wherever it is
asked (that is the point of testing that FlashFlow checks the target itself), optionally demands
`Proxy-Authorization: Basic ...`, and refuses anything but CONNECT with 405. `tunnels` lists the
`host:port` targets it was asked for; `refused` the request lines it turned down.
"""

from __future__ import annotations

import base64
import select
import socket
import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote


class _Handler(socketserver.StreamRequestHandler):
    server: _ProxyServer

    def handle(self) -> None:
        request_line = self.rfile.readline(8192).decode("latin-1").strip()
        headers = {}
        while True:
            line = self.rfile.readline(8192).decode("latin-1")
            if line in ("\r\n", "\n", ""):
                break
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        method, _, rest = request_line.partition(" ")
        target = rest.rpartition(" ")[0]
        if method != "CONNECT":
            self._refuse(request_line, b"405 Method Not Allowed")
            return
        if self.server.credentials and headers.get("proxy-authorization") != self.server.credentials:
            self._refuse(request_line, b"407 Proxy Authentication Required",
                         b"Proxy-Authenticate: Basic realm=\"test\"\r\n")
            return
        host, _, port = target.rpartition(":")
        with self.server.lock:
            self.server.tunnels.append(target)
        try:
            upstream = socket.create_connection((host.strip("[]"), int(port)), timeout=10)
        except OSError:
            self.wfile.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
            return
        self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        self.wfile.flush()
        self._relay(self.connection, upstream)

    def _refuse(self, request_line: str, status: bytes, extra: bytes = b"") -> None:
        with self.server.lock:
            self.server.refused.append(request_line)
        self.wfile.write(b"HTTP/1.1 " + status + b"\r\n" + extra + b"Content-Length: 0\r\nConnection: close\r\n\r\n")

    @staticmethod
    def _relay(client: socket.socket, upstream: socket.socket) -> None:
        sockets = [client, upstream]
        try:
            while True:
                ready, _, _ = select.select(sockets, [], [], 30)
                if not ready:
                    return
                for sock in ready:
                    data = sock.recv(65536)
                    if not data:
                        return
                    (upstream if sock is client else client).sendall(data)
        except OSError:
            return
        finally:
            upstream.close()


class _ProxyServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, host: str, credentials: str | None) -> None:
        super().__init__((host, 0), _Handler)
        self.credentials = credentials
        self.tunnels: list[str] = []
        self.refused: list[str] = []
        self.lock = threading.Lock()


class Proxy:
    """A running test proxy: `url` to configure, `tunnels` and `refused` to check."""

    def __init__(self, server: _ProxyServer, user: str | None, password: str | None) -> None:
        self._server = server
        self.host, self.port = server.server_address[:2]
        auth = f"{quote(user, safe='')}:{quote(password or '', safe='')}@" if user else ""
        self.url = f"http://{auth}{self.host}:{self.port}"

    @property
    def tunnels(self) -> list[str]:
        with self._server.lock:
            return list(self._server.tunnels)

    @property
    def refused(self) -> list[str]:
        with self._server.lock:
            return list(self._server.refused)


@contextmanager
def serve_proxy(host: str = "127.0.0.1", user: str | None = None, password: str | None = None) -> Iterator[Proxy]:
    """Run a tunnelling proxy on `host` (a free port); with `user`, it demands Basic auth."""
    credentials = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode() if user else None
    server = _ProxyServer(host, credentials)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield Proxy(server, user, password)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
