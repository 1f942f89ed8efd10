"""Watching one yt-dlp fetch: its size before any byte is read, stalls, and its deadline.

yt-dlp reads a response in blocks (`read(1024)` at first) and reports progress only after each
whole block, so a server that sends one byte a second holds a read for many minutes, and a check
made from the progress hook never runs. `DownloadWatch` therefore runs a thread of its own: when
the download has received nothing for FLASHFLOW_FETCH_STALL_S, or the fetch passes
FLASHFLOW_FETCH_TIMEOUT_S, it shuts down every connection the fetch opened, which ends the
blocked read at once, and the fetch raises the watch's reason instead of whatever the read
raised. Sizes are checked on each response's Content-Length, before its body is read. When the
download starts, the responses the extractor left open are closed (yt-dlp's look at a direct
video link reads its headers only), so a slow server never holds two connections for one fetch.

Stalls are measured on the video download (from its start, then between progress reports); the
page and metadata requests before it have the socket timeout per read and the fetch deadline.
Requests through curl_cffi (browser impersonation) are not reached by the watch; the stage's
child process limit (flashflow_core.supervised) covers them.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from typing import Any

from flashflow_core.adapters.base import AdapterError, PermanentError
from flashflow_core.adapters.fetch_access import ProxyRoute
from flashflow_core.adapters.netguard import AddressPolicy
from flashflow_core.adapters.ytdlp_guard import GuardedYoutubeDL, GuardError

TICK_S = 0.2
_MB = 1024 * 1024


class DownloadWatch:
    """Stops one fetch that stalls or overruns; `reason` says why once it has."""

    def __init__(self, timeout_s: float, stall_s: float, max_mb: float) -> None:
        self.timeout_s = timeout_s
        self.stall_s = stall_s
        self.max_mb = max_mb
        self.max_bytes = int(max_mb * _MB)
        self.reason: AdapterError | None = None
        self._deadline = time.monotonic() + timeout_s
        self._last_progress: float | None = None  # set when the video download starts
        self._received = 0
        self._sockets: list[socket.socket] = []
        self._responses: list[Any] = []
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="flashflow-fetch-watch", daemon=True)

    def __enter__(self) -> DownloadWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stopped.set()
        self._thread.join()

    # ---- told by the fetch ---------------------------------------------------------------------

    def connected(self, sock: socket.socket) -> None:
        """A connection of this fetch (urllib's, once connected): shut down when the watch fires."""
        with self._lock:
            self._sockets.append(sock)
        if self.reason is not None:
            self._shut(sock)
            raise GuardError(self.reason)

    def opened(self, response: Any) -> None:
        """A response of this fetch: closed when the download starts, if still open."""
        self._responses.append(response)

    def download_started(self) -> None:
        """The extraction is over: close what it left open, and measure stalls from now on."""
        for response in self._responses:
            with contextlib.suppress(Exception):
                response.close()
        self._responses.clear()
        self._last_progress = time.monotonic()

    def progressed(self, received: int) -> None:
        """yt-dlp's progress hook: `received` bytes of the file so far."""
        if self.reason is not None:
            raise GuardError(self.reason)
        if received > self._received:
            self._received = received
            self._last_progress = time.monotonic()

    def check_length(self, headers: Any) -> None:
        """Refuse a response whose Content-Length is over the limit, before reading its body."""
        length = str(headers.get("Content-Length") or "").strip()
        if length.isdigit() and int(length) > self.max_bytes and not headers.get("Content-Encoding"):
            raise GuardError(too_large(self.max_mb))

    # ---- the watching thread ---------------------------------------------------------------------

    def _watch(self) -> None:
        while not self._stopped.wait(TICK_S):
            now = time.monotonic()
            if now > self._deadline:
                self._fire(PermanentError(f"timed out: the download took longer than {self.timeout_s:g} s "
                                          "(FLASHFLOW_FETCH_TIMEOUT_S)"))
            elif self._last_progress is not None and now - self._last_progress > self.stall_s:
                got = f" after {self._received:,} bytes" if self._received else ""
                self._fire(PermanentError(f"stalled: the download received nothing for {self.stall_s:g} s{got} "
                                          "(FLASHFLOW_FETCH_STALL_S)"))

    def _fire(self, reason: AdapterError) -> None:
        self.reason = reason
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            self._shut(sock)
        self._stopped.set()

    @staticmethod
    def _shut(sock: socket.socket) -> None:
        # The plain socket's shutdown (not SSLSocket's, which also drops its TLS state under the
        # reading thread): the blocked read returns, the owner closes the socket as usual.
        with contextlib.suppress(OSError):
            socket.socket.shutdown(sock, socket.SHUT_RDWR)


def too_large(max_mb: float) -> PermanentError:
    return PermanentError(f"the file is larger than the {max_mb:g} MB limit (FLASHFLOW_FETCH_MAX_FILESIZE_MB)")


class WatchedYoutubeDL(GuardedYoutubeDL):
    """A GuardedYoutubeDL whose connections and responses the watch sees."""

    def __init__(self, params: dict[str, Any], policy: AddressPolicy, watch: DownloadWatch,
                 proxy: ProxyRoute | None = None) -> None:
        self._watch = watch
        super().__init__(params, policy, on_connect=watch.connected, proxy=proxy)

    def urlopen(self, req: Any) -> Any:
        if self._watch.reason is not None:
            raise GuardError(self._watch.reason)
        response = super().urlopen(req)
        try:
            self._watch.check_length(response.headers)
        except GuardError:
            response.close()
            raise
        self._watch.opened(response)
        return response
