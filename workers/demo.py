"""`flashflow demo`: the Winners Bank end to end on the bundled sample videos, offline.

Starts (or finds) the embedded servers, migrates, serves the samples from a loopback HTTP
server, enqueues their URLs, runs a worker in this process and shows each video's progress
until every one is ready or failed, then prints the hook packages.
"""

from __future__ import annotations

import functools
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path

from rich.live import Live
from rich.table import Table

from flashflow_core.adapters.languages import language_name
from flashflow_core.db.migrate import migrate
from flashflow_core.redaction import redact_url
from flashflow_core.winners.states import FINAL, ReferenceStatus
from flashflow_core.winners.submit import ReferenceSubmission
from workers.exit_codes import ExitCode

SAMPLES_PACKAGE = "flashflow_core.samples"


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        # yt-dlp reads the start of a file to sniff it, then hangs up: not an error worth a trace.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@contextmanager
def serve_folder(folder: Path) -> Iterator[str]:
    """Serve `folder` on 127.0.0.1 (a free port); yields the base URL."""
    server = _Server(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def sample_videos() -> list[Path]:
    """The bundled sample videos."""
    folder = Path(str(resources.files(SAMPLES_PACKAGE)))
    return sorted(folder.glob("*.mp4"))


def run_demo(ctx, timeout_s: float = 300) -> int:
    """Run the demo; 0 when every sample reached `ready`."""
    from jobs.winners import enqueue_submission
    from workers.worker import start_worker

    settings = ctx.settings
    if "127.0.0.1" not in settings.fetch_allow_hosts:
        settings = settings.model_copy(update={"fetch_allow_hosts": [*settings.fetch_allow_hosts, "127.0.0.1"]})
    ctx.console.print(f"Postgres {redact_url(settings.database_url)}\nRedis    {redact_url(settings.redis_url)}",
                      markup=False)
    applied = migrate(settings.database_url)
    ctx.console.print(f"migrations: {len(applied)} applied now, database up to date")
    samples = sample_videos()
    started = time.monotonic()
    worker = start_worker(settings)
    from jobs import runtime

    pool = runtime.current().pool
    try:
        with serve_folder(samples[0].parent) as base:
            ids = []
            for sample in samples:
                done = enqueue_submission(ReferenceSubmission(
                    url=f"{base}/{sample.name}?demo={int(time.time())}", submitted_by="demo", category="demo"))
                ids.append(done.id)
            rows = _watch(ctx, pool, ids, timeout_s)
            ctx.console.print()
    finally:
        worker.stop(timeout=10_000)
    elapsed = time.monotonic() - started
    _print_packages(ctx, pool, ids)
    runtime.current().close()
    ready = sum(1 for r in rows if r["status"] == ReferenceStatus.READY)
    ctx.console.print(f"{ready} of {len(ids)} samples ready in {elapsed:.1f} s. "
                      "`flashflow status` shows the Winners Bank; `flashflow doctor` checks the set-up.")
    return ExitCode.OK if ready == len(ids) else ExitCode.FAILED


def _watch(ctx, pool, ids: list, timeout_s: float) -> list[dict]:
    deadline = time.monotonic() + timeout_s
    rows: list[dict] = []
    with Live(console=ctx.console, refresh_per_second=4, transient=False) as live:
        while True:
            with pool.connection() as conn:
                rows = conn.execute(
                    "SELECT id, url, status, error_message FROM reference_videos WHERE id = ANY(%s) "
                    "ORDER BY url", (ids,)).fetchall()
            table = Table("video", "status", "error", title="Winners Bank demo")
            for r in rows:
                table.add_row(r["url"].rsplit("/", 1)[-1].split("?")[0], r["status"], r["error_message"] or "")
            live.update(table)
            if all(r["status"] in FINAL for r in rows) or time.monotonic() > deadline:
                return rows
            time.sleep(0.5)


def _print_packages(ctx, pool, ids: list) -> None:
    with pool.connection() as conn:
        rows = conn.execute(
            "SELECT v.url, e.*, t.language, t.language_probability, t.confidence FROM reference_extracts e "
            "JOIN reference_videos v ON v.id = e.reference_video_id "
            "LEFT JOIN reference_assets t ON t.reference_video_id = v.id AND t.asset_type = 'transcript' "
            "WHERE v.id = ANY(%s) ORDER BY v.url", (ids,)).fetchall()
    for r in rows:
        table = Table(show_header=False, title=r["url"].rsplit("/", 1)[-1].split("?")[0], title_justify="left")
        table.add_row("language", _language(r))
        for field in ("spoken_hook", "on_screen_hook", "visual_hook", "cta", "hook_family", "quality_score"):
            table.add_row(field, "—" if r[field] in (None, "") else str(r[field]))
        table.add_row("structure_tags", ", ".join(r["structure_tags"] or []))
        ctx.console.print(table)


def _language(row: dict) -> str:
    """'English (en, probability 1.00), speech confidence 0.87'; '— (no speech)' without a language."""
    if not row["language"]:
        return "— (no speech)"
    found = f"{language_name(row['language'])} ({row['language']}"
    if row["language_probability"] is not None:
        found += f", probability {row['language_probability']:.2f}"
    found += ")"
    if row["confidence"] is not None:
        found += f", speech confidence {row['confidence']:.2f}"
    return found
