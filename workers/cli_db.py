"""`flashflow migrate` and `flashflow config`."""

from __future__ import annotations

import argparse

import psycopg
from rich.table import Table
from rich.text import Text

from flashflow_core.config import Settings
from flashflow_core.db.migrate import MigrationError, migrate
from flashflow_core.redaction import redact, redact_setting


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("migrate", help="apply pending database migrations", description=cmd_migrate.__doc__)
    p.set_defaults(handler=cmd_migrate)
    p = sub.add_parser("config", help="show every setting, its environment variable and value")
    p.set_defaults(handler=cmd_config)


def cmd_migrate(args: argparse.Namespace, ctx) -> int:
    """Apply pending migrations in order, each in a transaction, under an advisory lock.

    Refuses to run when a migration that was applied has been edited since.
    """
    try:
        applied = migrate(ctx.settings.database_url)
    except MigrationError as exc:
        ctx.err.print(f"flashflow migrate: {exc}", markup=False)
        return 1
    except psycopg.Error as exc:
        ctx.err.print(f"flashflow migrate: database error: {redact(str(exc))}", markup=False)
        return 1
    for m in applied:
        ctx.console.print(f"applied {m.filename}", markup=False)
    ctx.console.print(f"database is up to date ({len(applied)} applied now)", markup=False)
    return 0


def cmd_config(args: argparse.Namespace, ctx) -> int:
    """Print each setting with its environment variable and current value (secrets as ****, URLs
    without their passwords)."""
    table = Table("variable", "value", "description")
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias
        env = alias.choices[0] if alias is not None else f"FLASHFLOW_{name.upper()}"
        extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else None
        value = redact_setting(name, getattr(ctx.base_settings, name), extra)
        table.add_row(str(env), Text(value), field.description or "")
    ctx.console.print(table)
    return 0
