"""Winners Bank commands: enqueue, status, attach-file, attach-transcript, retry, demo."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from pathlib import Path
from uuid import UUID

from pydantic import ValidationError
from rich.progress import Progress
from rich.table import Table

from flashflow_core.winners import manual
from flashflow_core.winners.report import status_report
from flashflow_core.winners.states import STAGE_WORKS_IN
from flashflow_core.winners.submit import ReferenceSubmission


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("enqueue", help="submit reference video URLs to the Winners Bank",
                       description=cmd_enqueue.__doc__)
    p.add_argument("urls", nargs="*", metavar="URL", help="URLs to submit; '-' reads them from standard input")
    p.add_argument("--file", "-f", metavar="F", help="read URLs from F, one per line ('-' for standard input)")
    p.add_argument("--submitted-by", default="cli", help="who submitted them (default: cli)")
    p.add_argument("--category")
    p.add_argument("--notes")
    p.set_defaults(handler=cmd_enqueue)

    p = sub.add_parser("status", help="Winners Bank counts, oldest waiting rows, latest failures")
    p.add_argument("--json", action="store_true", help="print JSON instead of tables")
    p.set_defaults(handler=cmd_status)

    p = sub.add_parser("attach-file", help="supply the video yourself; the row resumes at transcription")
    p.add_argument("id", type=UUID)
    p.add_argument("path", type=Path)
    p.set_defaults(handler=cmd_attach_file)

    p = sub.add_parser("attach-transcript", help="supply the transcript yourself; the row resumes at extraction")
    p.add_argument("id", type=UUID)
    p.add_argument("path", help="a text file (or JSON with segments), or '-' for standard input")
    p.set_defaults(handler=cmd_attach_transcript)

    p = sub.add_parser("retry", help="start a failed row again from the stage that failed")
    p.add_argument("ids", type=UUID, nargs="+", metavar="ID")
    p.set_defaults(handler=cmd_retry)

    p = sub.add_parser("demo", help="run the Winners Bank on the bundled sample videos, offline")
    p.add_argument("--timeout", type=float, default=300, help="give up after this many seconds")
    p.set_defaults(handler=cmd_demo)


def _line(ctx, *fields: object) -> None:
    """One tab-separated line on standard output, as scripts expect it (rich would expand tabs)."""
    ctx.console.file.write("\t".join(str(f) for f in fields) + "\n")
    ctx.console.file.flush()


def _producer(ctx):
    """Broker, actors and runtime for a command that sends messages."""
    from jobs.boot import boot

    return boot(ctx.settings)


def _read_urls(args: argparse.Namespace) -> list[str]:
    urls = [u for u in args.urls if u != "-"]
    if "-" in args.urls and not args.file:
        args.file = "-"
    if args.file:
        text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text(encoding="utf-8")
        urls += [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]
    return urls


def cmd_enqueue(args: argparse.Namespace, ctx) -> int:
    """Submit URLs; print one line per URL: id, status, and whether it is new.

    A URL already in the Winners Bank (after normalisation) is reported with its current status
    and not fetched again. Exit code 1 when any URL was refused.
    """
    from jobs.winners import enqueue_submission

    try:
        urls = _read_urls(args)
    except OSError as exc:
        ctx.err.print(f"flashflow enqueue: cannot read {args.file}: {exc.strerror}", markup=False)
        return 2
    except UnicodeDecodeError:
        ctx.err.print(f"flashflow enqueue: {args.file} is not UTF-8 text", markup=False)
        return 2
    if not urls:
        ctx.err.print("flashflow enqueue: give at least one URL, or --file F")
        return 2
    rt = _producer(ctx)
    refused = 0
    with Progress(console=ctx.err, transient=True, disable=len(urls) < 20) as progress:
        task = progress.add_task("enqueueing", total=len(urls))
        for url in urls:
            try:
                submission = ReferenceSubmission(url=url, submitted_by=args.submitted_by,
                                                 category=args.category, notes=args.notes)
            except ValidationError as exc:
                refused += 1
                reason = "; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors())
                _line(ctx, "refused", url, reason)
                progress.advance(task)
                continue
            done = enqueue_submission(submission)
            _line(ctx, done.id, done.status, "new" if done.created else "existing", done.url)
            progress.advance(task)
    rt.close()
    return 1 if refused else 0


def cmd_status(args: argparse.Namespace, ctx) -> int:
    """Counts per status, the oldest row in each non-final status, and the latest failures."""
    from flashflow_core.db.pool import make_pool

    with make_pool(ctx.settings, name="flashflow-status") as pool:
        report = status_report(pool)
    if args.json:
        ctx.console.print_json(json.dumps(report))
        return 0
    counts = Table("status", "count", title="Winners Bank")
    for status, n in report["counts"].items():
        counts.add_row(status, str(n))
    ctx.console.print(counts)
    if report["oldest"]:
        oldest = Table("status", "oldest id", "waiting (s)", "url", title="Oldest in each status")
        for r in report["oldest"]:
            oldest.add_row(r["status"], r["id"], str(r["age_s"]), r["url"])
        ctx.console.print(oldest)
    if report["failures"]:
        failures = Table("id", "stage", "error", title="Latest failures")
        for r in report["failures"]:
            failures.add_row(r["id"], r["stage"] or "", r["error"] or "")
        ctx.console.print(failures)
    return 0


def cmd_attach_file(args: argparse.Namespace, ctx) -> int:
    """Store a video for a row stuck at fetching; it resumes at transcription."""
    return _step_in(ctx, "attach-file", args.id, "file attached",
                    lambda rt: manual.attach_file(rt.pool, rt.tools, args.id, args.path, actor=cli_actor()))


def cmd_attach_transcript(args: argparse.Namespace, ctx) -> int:
    """Store a transcript (text, or JSON with segments); the row resumes at extraction."""
    try:
        text = sys.stdin.read() if args.path == "-" else Path(args.path).read_text(encoding="utf-8")
    except OSError as exc:
        ctx.err.print(f"flashflow attach-transcript: cannot read {args.path}: {exc.strerror}", markup=False)
        return 2
    except UnicodeDecodeError:
        ctx.err.print(f"flashflow attach-transcript: {args.path} is not UTF-8 text", markup=False)
        return 2
    return _step_in(ctx, "attach-transcript", args.id, "transcript attached",
                    lambda rt: manual.attach_transcript(rt.pool, rt.tools, args.id, text,
                                                       actor=cli_actor()))


def _step_in(ctx, command: str, reference_id: UUID, done: str, attach) -> int:
    """Run one attach function, then send the message of the stage the row resumes at."""
    from jobs.winners import send_stage

    rt = _producer(ctx)
    try:
        stage = attach(rt)
    except manual.CannotStepIn as exc:
        ctx.err.print(f"flashflow {command}: {exc}", markup=False)
        return 1
    finally:
        rt.close()
    send_stage(stage, reference_id)
    _line(ctx, reference_id, STAGE_WORKS_IN[stage], done)
    return 0


def cmd_retry(args: argparse.Namespace, ctx) -> int:
    """Start failed rows again from the stage that failed."""
    from jobs.winners import send_stage

    rt = _producer(ctx)
    code = 0
    try:
        for reference_id in args.ids:
            try:
                stage = manual.retry(rt.pool, reference_id, actor=cli_actor())
            except manual.CannotStepIn as exc:
                ctx.err.print(f"flashflow retry: {exc}", markup=False)
                code = 1
                continue
            send_stage(stage, reference_id)
            _line(ctx, reference_id, f"retrying from {stage}")
    finally:
        rt.close()
    return code


def cli_actor() -> str:
    """Who a person's command is audited as: `cli:<login name>`."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no login name in the environment or the password database
        return "cli"


def cmd_demo(args: argparse.Namespace, ctx) -> int:
    """Start the embedded servers, serve the bundled samples on loopback, and watch them go to ready."""
    from workers.demo import run_demo

    return run_demo(ctx, timeout_s=args.timeout)
