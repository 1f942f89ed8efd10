"""`flashflow show KEY`: one Winners Bank row with its timeline, assets, hook package and error;
and the key lookup every command that takes a row uses (id, id prefix, URL or message id)."""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg

from flashflow_core.winners import lookup
from workers.cli_output import Column, json_rows
from workers.exit_codes import ExitCode

KEY_HELP = "the row's id, its first characters, its URL, or the message id of a job that wrote it"
ROW_FIELDS = ("id", "url", "status", "status_changed_at", "failed_stage", "error_message", "last_error",
              "submitted_by", "category", "notes", "created_at", "updated_at", "stage_attempts", "crash_count",
              "throttle_count", "resend_count", "lease_until", "correlation_id")
TIMELINE_COLUMNS = (Column("at", show=lambda t: f"{t:%Y-%m-%d %H:%M:%S}"), Column("event"), Column("attempt"),
                    Column("actor"), Column("message_id", "message id", whole=True), Column("summary"))
ASSET_COLUMNS = (Column("asset_type", "asset"), Column("storage_path", "stored at"),
                 Column("transcript_chars", "transcript (chars)"), Column("updated_at", "updated",
                                                                          show=lambda t: f"{t:%Y-%m-%d %H:%M:%S}"))
FIELD_COLUMNS = (Column("field"), Column("value"))


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("show", help="one Winners Bank row: timeline, assets, hook package, error",
                       description=cmd_show.__doc__)
    p.add_argument("key", metavar="ID|PREFIX|URL|MESSAGE_ID", help=KEY_HELP)
    p.add_argument("--json", action="store_true", help="print one JSON object: row, timeline, assets, hook_package")
    p.set_defaults(handler=cmd_show, needs=("postgres",))


def resolve(ctx, conn: psycopg.Connection, key: str, command: str) -> UUID | ExitCode:
    """The id of the one row `key` means, or the exit code after saying why there is none."""
    try:
        return lookup.find_reference(conn, key).id
    except lookup.Ambiguous as exc:
        return ctx.fail(command, str(exc), ExitCode.USAGE)
    except lookup.NotFound as exc:
        return ctx.fail(command, str(exc), ExitCode.NOT_FOUND)


def cmd_show(args: argparse.Namespace, ctx) -> int:
    """Show one Winners Bank row, found by its id, the first characters of its id (an ambiguous
    prefix lists the matches), its URL (normalised as submissions are), or the message id of a
    job that wrote it (what a producer's enqueue printed): its columns and error, every audit event
    (time, event, attempt, actor, message id), its stored assets and its hook package.

    Piped, tab-separated lines whose first field names the part: `field NAME VALUE`,
    `event AT EVENT ATTEMPT ACTOR MESSAGE_ID SUMMARY`, `asset TYPE PATH CHARS UPDATED`,
    `hook NAME VALUE`."""
    from flashflow_core.db.pool import connect

    with connect(ctx.settings) as conn:
        reference_id = resolve(ctx, conn, args.key, "show")
        if isinstance(reference_id, ExitCode):
            return reference_id
        detail = lookup.reference_detail(conn, reference_id)
    if detail is None:
        return ctx.fail("show", f"row {reference_id} was deleted meanwhile", ExitCode.NOT_FOUND)
    if args.json:
        ctx.out.json({"row": detail.row, "timeline": json_rows(TIMELINE_COLUMNS, detail.timeline),
                      "assets": json_rows(ASSET_COLUMNS, detail.assets), "hook_package": detail.hook_package})
        return ExitCode.OK
    row = detail.row
    fields = [{"field": name, "value": _shown(row.get(name))} for name in ROW_FIELDS
              if name in row and row[name] not in (None, "")]
    ctx.out.rows(FIELD_COLUMNS, fields, title=f"Winners Bank row {row['id']}", section="field")
    ctx.out.rows(TIMELINE_COLUMNS, detail.timeline, title="Timeline", section="event")
    if detail.assets:
        ctx.out.rows(ASSET_COLUMNS, detail.assets, title="Assets", section="asset")
    if detail.hook_package:
        package = [{"field": name, "value": _shown(value)} for name, value in detail.hook_package.items()
                   if value not in (None, "", [], {})]
        ctx.out.rows(FIELD_COLUMNS, package, title="Hook package", section="hook")
    return ExitCode.OK


def _shown(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    return str(value)
