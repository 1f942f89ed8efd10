"""Winners Bank commands: enqueue, status, attach-file, attach-transcript, retry, demo."""

from __future__ import annotations

import argparse
import getpass
import sys
from collections import Counter
from pathlib import Path

from pydantic import ValidationError
from rich.progress import Progress

from flashflow_core.winners import manual
from flashflow_core.winners.report import status_report
from flashflow_core.winners.states import STAGE_WORKS_IN
from flashflow_core.winners.submit import ReferenceSubmission
from workers.cli_output import Column, json_rows
from workers.cli_show import KEY_HELP, resolve
from workers.exit_codes import ExitCode


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("enqueue", help="submit reference video URLs to the Winners Bank",
                       description=cmd_enqueue.__doc__)
    p.add_argument("urls", nargs="*", metavar="URL", help="URLs to submit; '-' reads them from standard input")
    p.add_argument("--file", "-f", metavar="F", help="read URLs from F, one per line ('-' for standard input)")
    p.add_argument("--submitted-by", default="cli", help="who submitted them (default: cli)")
    p.add_argument("--category")
    p.add_argument("--notes")
    p.add_argument("--json", action="store_true", help="print a JSON list of the results")
    # Redis is not needed: rows are saved owing their messages, and go out once it answers.
    p.set_defaults(handler=cmd_enqueue, needs=("postgres",))

    p = sub.add_parser("status", help="Winners Bank counts, oldest waiting rows, latest failures",
                       description=cmd_status.__doc__)
    p.add_argument("--json", action="store_true", help="print JSON instead of tables")
    p.set_defaults(handler=cmd_status, needs=("postgres",))

    p = sub.add_parser("attach-file", help="supply the video yourself; the row resumes at transcription")
    p.add_argument("id", metavar="ID", help=KEY_HELP)
    p.add_argument("path", type=Path)
    p.set_defaults(handler=cmd_attach_file, needs=("redis", "postgres"))

    p = sub.add_parser("attach-transcript", help="supply the transcript yourself; the row resumes at extraction")
    p.add_argument("id", metavar="ID", help=KEY_HELP)
    p.add_argument("path", help="a text file (or JSON with segments), or '-' for standard input")
    p.set_defaults(handler=cmd_attach_transcript, needs=("redis", "postgres"))

    p = sub.add_parser("retry", help="start a failed row again from the stage that failed")
    p.add_argument("ids", nargs="+", metavar="ID", help=KEY_HELP)
    p.set_defaults(handler=cmd_retry, needs=("redis", "postgres"))

    p = sub.add_parser("demo", help="run the Winners Bank on the bundled sample videos, offline")
    p.add_argument("--timeout", type=float, default=300, help="give up after this many seconds")
    p.set_defaults(handler=cmd_demo)


ENQUEUE_COLUMNS = (Column("id", whole=True), Column("status"), Column("result"), Column("url"), Column("reason"))
COUNT_COLUMNS = (Column("status"), Column("count"))
OLDEST_COLUMNS = (Column("status"), Column("id", whole=True), Column("since"), Column("age_s", "waiting (s)"), Column("url"))
FAILURE_COLUMNS = (Column("id", whole=True), Column("stage"), Column("at"), Column("error"), Column("url"))


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
    """Submit URLs; for each: id, status, result (new, existing or refused), url, and why it was
    refused. A URL already in the Winners Bank (after normalisation) is reported with its current
    status and not fetched again; its timeline records the resubmission (`reference.resubmitted`).

    Piped, one tab-separated line per URL as it goes; on a terminal, a table and a summary line;
    --json, a JSON list. Exit code 1 when any URL was refused. When Redis does not answer, new
    rows are saved all the same, owing their fetch messages: one line says so (exit code 4), and
    a worker sends them within seconds of Redis answering again.
    """
    from jobs.winners import enqueue_submission

    try:
        urls = _read_urls(args)
    except OSError as exc:
        return ctx.fail("enqueue", f"cannot read {args.file}: {exc.strerror}", ExitCode.USAGE)
    except UnicodeDecodeError:
        return ctx.fail("enqueue", f"{args.file} is not UTF-8 text", ExitCode.USAGE)
    if not urls:
        return ctx.fail("enqueue", "give at least one URL, or --file F", ExitCode.USAGE)
    stream = not (args.json or ctx.out.terminal)
    rt = _producer(ctx)
    results = []
    redis_down = _redis_problem(ctx)
    try:
        with Progress(console=ctx.err, transient=True, disable=len(urls) < 20) as progress:
            task = progress.add_task("enqueueing", total=len(urls))
            for url in urls:
                result = _enqueue_one(args, url, enqueue_submission, send=redis_down is None)
                if result.pop("unsent", False) and redis_down is None:
                    redis_down = "Redis stopped taking messages"
                if stream:
                    ctx.out.line(*(c.text(result) for c in ENQUEUE_COLUMNS))
                results.append(result)
                progress.advance(task)
    finally:
        rt.close()
    counts = Counter(r["result"] for r in results)
    if args.json:
        ctx.out.json(json_rows(ENQUEUE_COLUMNS, results))
    elif not stream:
        ctx.out.rows(ENQUEUE_COLUMNS, results)
        ctx.out.text(", ".join(f"{counts[k]} {k}" for k in ("new", "existing", "refused")))
    if redis_down is not None and counts["new"]:
        return ctx.fail("enqueue", f"{redis_down}: the {counts['new']} new row(s) are saved and a worker sends "
                        "them within seconds of Redis answering again", ExitCode.UNAVAILABLE)
    return ExitCode.FAILED if counts["refused"] else ExitCode.OK


def _redis_problem(ctx) -> str | None:
    """Why Redis cannot take messages now (one line, no password), or None when it answers."""
    from flashflow_core.ops import outages

    try:
        outages.check_redis(ctx.settings.redis_url)
    except outages.ServerProblem as exc:
        return str(exc)
    return None


def _enqueue_one(args: argparse.Namespace, url: str, enqueue_submission, send: bool) -> dict:
    try:
        submission = ReferenceSubmission(url=url, submitted_by=args.submitted_by, category=args.category,
                                         notes=args.notes)
    except ValidationError as exc:
        reason = "; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors())
        return {"id": None, "status": None, "result": "refused", "url": url, "reason": reason}
    done = enqueue_submission(submission, send=send)
    return {"id": str(done.id), "status": done.status, "result": "new" if done.created else "existing",
            "url": done.url, "reason": None, "unsent": done.created and not done.sent}


def cmd_status(args: argparse.Namespace, ctx) -> int:
    """Counts per status, the oldest row in each non-final status, and the latest failures.

    Piped, tab-separated lines whose first field says which part they belong to:
    `count STATUS N`, `oldest STATUS ID SINCE WAITING_S URL`, `failure ID STAGE AT ERROR URL`.
    """
    from flashflow_core.db.pool import make_pool

    with make_pool(ctx.settings, name="flashflow-status") as pool:
        report = status_report(pool)
    if args.json:
        ctx.out.json(report)
        return ExitCode.OK
    counts = [{"status": status, "count": n} for status, n in report["counts"].items()]
    ctx.out.rows(COUNT_COLUMNS, counts, title="Winners Bank", section="count")
    if report["oldest"]:
        ctx.out.rows(OLDEST_COLUMNS, report["oldest"], title="Oldest in each status", section="oldest")
    if report["failures"]:
        ctx.out.rows(FAILURE_COLUMNS, report["failures"], title="Latest failures", section="failure")
    return ExitCode.OK


def cmd_attach_file(args: argparse.Namespace, ctx) -> int:
    """Store a video for a row stuck at fetching; it resumes at transcription."""
    return _step_in(ctx, "attach-file", args.id, "file attached",
                    lambda rt, rid: manual.attach_file(rt.pool, rt.tools, rid, args.path, actor=cli_actor()))


def cmd_attach_transcript(args: argparse.Namespace, ctx) -> int:
    """Store a transcript (text, or JSON with segments); the row resumes at extraction."""
    limit = ctx.base_settings.transcript_max_bytes
    try:  # one byte past the limit is enough to refuse it; a huge input is never read whole
        if args.path == "-":
            data = sys.stdin.buffer.read(limit + 1)
        else:
            with open(args.path, "rb") as source:
                data = source.read(limit + 1)
    except OSError as exc:
        return ctx.fail("attach-transcript", f"cannot read {args.path}: {exc.strerror}", ExitCode.USAGE)
    try:
        manual.parse_transcript(manual.read_transcript(data, limit))  # refused before any server is asked
    except manual.CannotStepIn as exc:
        return ctx.fail("attach-transcript", f"{args.path}: {exc}", ExitCode.USAGE)
    return _step_in(ctx, "attach-transcript", args.id, "transcript attached",
                    lambda rt, rid: manual.attach_transcript(rt.pool, rt.tools, rid, data, actor=cli_actor()))


def _step_in(ctx, command: str, key: str, done: str, attach) -> int:
    """Find the row, run one attach function on it, then send the message of the stage it resumes at."""
    from jobs.winners import send_owed

    rt = _producer(ctx)
    try:
        with rt.pool.connection() as conn:
            reference_id = resolve(ctx, conn, key, command)
        if isinstance(reference_id, ExitCode):
            return reference_id
        stage = attach(rt, reference_id)
        sent = send_owed(stage, reference_id)
    except manual.CannotStepIn as exc:
        return ctx.fail(command, str(exc))
    finally:
        rt.close()
    ctx.out.line(reference_id, STAGE_WORKS_IN[stage], done)
    return ExitCode.OK if sent else _owed(ctx, command)


def _owed(ctx, command: str) -> ExitCode:
    """The change is saved but Redis did not take its message: say so in one line."""
    return ctx.fail(command, "Redis did not take the message: the change is saved and a worker sends it within "
                    "seconds of Redis answering again", ExitCode.UNAVAILABLE)


def cmd_retry(args: argparse.Namespace, ctx) -> int:
    """Start failed rows again from the stage that failed."""
    from jobs.winners import send_owed

    rt = _producer(ctx)
    code = ExitCode.OK
    try:
        for key in args.ids:
            with rt.pool.connection() as conn:
                reference_id = resolve(ctx, conn, key, "retry")
            if isinstance(reference_id, ExitCode):
                code = reference_id
                continue
            try:
                stage = manual.retry(rt.pool, reference_id, actor=cli_actor())
            except manual.CannotStepIn as exc:
                code = ctx.fail("retry", str(exc))
                continue
            ctx.out.line(reference_id, f"retrying from {stage}")
            if not send_owed(stage, reference_id):
                code = _owed(ctx, "retry")
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
