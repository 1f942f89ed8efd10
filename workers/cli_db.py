"""`flashflow migrate` and `flashflow config`."""

from __future__ import annotations

import argparse

import psycopg

from flashflow_core.config import Settings
from flashflow_core.db.migrate import MigrationError, migrate
from flashflow_core.redaction import redact_setting
from workers.cli_output import Column, json_rows
from workers.exit_codes import ExitCode


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("migrate", help="apply pending database migrations", description=cmd_migrate.__doc__)
    p.set_defaults(handler=cmd_migrate, needs=("postgres",), migrated=False)
    p = sub.add_parser("config", help="show every setting, its environment variable and value",
                       description=cmd_config.__doc__)
    p.add_argument("--json", action="store_true", help="print a JSON list instead of a table")
    p.set_defaults(handler=cmd_config)


def cmd_migrate(args: argparse.Namespace, ctx) -> int:
    """Apply pending migrations in order, each in a transaction, under an advisory lock.

    Refuses to run when a migration that was applied has been edited since.
    """
    try:
        applied = migrate(ctx.settings.database_url)
    except MigrationError as exc:
        return ctx.fail("migrate", str(exc))
    except psycopg.OperationalError:
        raise  # an outage: main() says so in one line
    except psycopg.Error as exc:
        return ctx.fail("migrate", f"database error: {exc}")
    for m in applied:
        ctx.out.text(f"applied {m.filename}")
    ctx.out.text(f"database is up to date ({len(applied)} applied now)")
    return ExitCode.OK


CONFIG_COLUMNS = (Column("variable", whole=True), Column("value"), Column("description"))


def cmd_config(args: argparse.Namespace, ctx) -> int:
    """Print each setting with its environment variable and current value (secrets and URL
    passwords shown as ****). Columns: variable, value, description."""
    rows = []
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias
        env = alias.choices[0] if alias is not None else f"FLASHFLOW_{name.upper()}"
        extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else None
        value = getattr(ctx.base_settings, name)
        rows.append({"variable": str(env), "value": None if value is None else redact_setting(name, value, extra),
                     "description": field.description or None})
    if args.json:
        ctx.out.json(json_rows(CONFIG_COLUMNS, rows))
    else:
        ctx.out.rows(CONFIG_COLUMNS, rows)
    return ExitCode.OK
