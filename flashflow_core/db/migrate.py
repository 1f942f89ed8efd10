"""Applies the plain-SQL migrations in `flashflow_core/db/migrations/` in file-name order.

Each file runs in its own transaction and is recorded with a SHA-256 checksum in
`flashflow_migrations.applied`. A session advisory lock serialises concurrent runs, and an
applied file whose content changed stops the run before anything is applied.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from importlib import resources

import psycopg

log = logging.getLogger(__name__)

MIGRATIONS_PACKAGE = "flashflow_core.db.migrations"
# An arbitrary constant shared by every `flashflow migrate` process: the advisory lock key.
MIGRATE_LOCK_KEY = 7_265_031_822_104


class MigrationError(RuntimeError):
    """Migrations cannot be applied; the message says which file and why."""


@dataclass(frozen=True)
class Migration:
    """One migration file."""

    version: str
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode("utf-8")).hexdigest()

    @property
    def filename(self) -> str:
        return f"{self.version}_{self.name}.sql"


def discover() -> list[Migration]:
    """Every migration file shipped with the package, in order."""
    found = []
    for entry in resources.files(MIGRATIONS_PACKAGE).iterdir():
        if not entry.name.endswith(".sql"):
            continue
        version, _, name = entry.name[: -len(".sql")].partition("_")
        if not version.isdigit() or not name:
            raise MigrationError(f"{entry.name}: migration files are named <digits>_<name>.sql")
        found.append(Migration(version, name, entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise MigrationError("two migration files share a version number")
    return found


_LEDGER = """
CREATE SCHEMA IF NOT EXISTS flashflow_migrations;
CREATE TABLE IF NOT EXISTS flashflow_migrations.applied (
    version    text PRIMARY KEY,
    name       text NOT NULL,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);
"""


def applied_versions(conn: psycopg.Connection) -> dict[str, tuple[str, str]]:
    """{version: (name, checksum)} of what the database has recorded (tuple-row connection)."""
    (exists,) = conn.execute("SELECT to_regclass('flashflow_migrations.applied') IS NOT NULL").fetchone()
    if not exists:
        return {}
    rows = conn.execute("SELECT version, name, checksum FROM flashflow_migrations.applied").fetchall()
    return {version: (name, checksum) for version, name, checksum in rows}


def check_edited(migrations: list[Migration], applied: dict[str, tuple[str, str]]) -> None:
    """Refuse to go on when a file that was applied has changed since."""
    for m in migrations:
        if m.version in applied and applied[m.version][1] != m.checksum:
            raise MigrationError(
                f"migration {m.filename} was edited after it was applied "
                f"(recorded checksum {applied[m.version][1][:12]}, file now {m.checksum[:12]}). "
                "Restore the original file and put the change in a new migration."
            )


def pending(conn: psycopg.Connection, migrations: list[Migration] | None = None) -> list[Migration]:
    """Migrations not yet applied (after checking applied ones are unedited)."""
    migrations = discover() if migrations is None else migrations
    applied = applied_versions(conn)
    check_edited(migrations, applied)
    return [m for m in migrations if m.version not in applied]


def migrate(database_url: str, migrations: list[Migration] | None = None) -> list[Migration]:
    """Apply every pending migration; return those applied by this call."""
    migrations = discover() if migrations is None else migrations
    done: list[Migration] = []
    with psycopg.connect(database_url, autocommit=True, application_name="flashflow-migrate") as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATE_LOCK_KEY,))
        try:
            conn.execute(_LEDGER)
            for m in pending(conn, migrations):
                log.info("applying migration", extra={"migration": m.filename})
                try:
                    with conn.transaction():
                        conn.execute(m.sql.encode("utf-8"))
                        conn.execute(
                            "INSERT INTO flashflow_migrations.applied (version, name, checksum) VALUES (%s, %s, %s)",
                            (m.version, m.name, m.checksum),
                        )
                except psycopg.Error as exc:
                    raise MigrationError(f"migration {m.filename} failed and was rolled back: {exc}") from exc
                done.append(m)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATE_LOCK_KEY,))
    return done
