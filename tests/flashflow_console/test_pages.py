"""The console in a real headless Chromium, against real Postgres, Redis and a running worker with
real rows (yt-dlp from a loopback server, Whisper tiny.en, rapidocr, the offline extractor)."""

from __future__ import annotations

import importlib.metadata
import re
import shutil
import socket
import time
from datetime import UTC, datetime

import pytest
from dramatiq import Message
from playwright.sync_api import Page, expect

from flashflow_core.ops import worker_registry
from flashflow_core.scheduling.ledger import LeaderLock, claim_fire
from flashflow_core.winners.submit import ReferenceSubmission
from tests.conftest import FIXTURES, drain
from tests.flashflow_console.conftest import serve_console, stop_console

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]


def enqueue(url: str) -> str:
    from jobs.winners import enqueue_submission

    return str(enqueue_submission(ReferenceSubmission(url=url, submitted_by="test")).id)


def shoot(page: Page, folder, name: str) -> None:
    """A screenshot of the page as a person sees it (docs/console.md shows these)."""
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def wait_for(predicate, timeout_s: float = 20) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def row_status(page: Page):
    return page.locator("#row-status")


def test_pages_show_real_rows_and_retry_and_upload_bring_failed_rows_to_ready(
        broker, worker, media_server, console, page, conn, screenshots, settings):
    from jobs.winners import enqueue_reference

    shutil.copy(FIXTURES / "hook_speech_text.mp4", media_server.root / "hook.mp4")
    # As a producer sends it: a message whose id the console finds the row by.
    sent = enqueue_reference.send(url=media_server.url("files/hook.mp4"), submitted_by="producer")
    late_id = enqueue(media_server.url("files/late.mp4"))  # not there yet: 404, fails at fetch
    gone_id = enqueue(media_server.url("files/gone.mp4"))  # never there: a person uploads the file
    drain(broker, worker)
    ready_id = str(conn.execute("SELECT id FROM reference_videos WHERE submitted_by = 'producer'").fetchone()["id"])
    statuses = {r["id"]: r["status"] for r in conn.execute("SELECT id::text AS id, status FROM reference_videos")}
    assert statuses == {ready_id: "ready", late_id: "failed", gone_id: "failed"}
    lock = LeaderLock(settings.database_url, identity="sched-host:4242")  # the real leader lock, held here
    assert lock.try_acquire()
    claim_fire(conn, schedule="expire-assignments", fire_time=datetime.now(UTC).replace(microsecond=0),
               actor="expire_assignments", message_id="m-1", scheduler="sched-host:4242")
    try:
        page.goto(console.url)
        expect(page.get_by_role("heading", name="Overview")).to_be_visible()
        expect(page.get_by_role("link", name=re.compile(r"\b1 ready\b"))).to_be_visible()
        expect(page.get_by_text("Leader: sched-host:4242")).to_be_visible()
        expect(page.locator("#queue-fetch")).to_contain_text("fetch")
        expect(page.get_by_text(re.compile(r"[1-9]\d* alive"))).to_be_visible()
        shoot(page, screenshots, "overview")

        page.get_by_role("link", name=re.compile(r"\b2 failed\b")).click()
        expect(page).to_have_url(re.compile(r"/references\?status=failed$"))
        expect(page.get_by_text("2 rows")).to_be_visible()
        shoot(page, screenshots, "winners-bank")

        for key in (sent.message_id, ready_id[:6]):  # a producer's message id, an id prefix
            page.goto(console.at("/references"))
            page.get_by_label("Search").fill(key)
            page.get_by_role("button", name="Filter").click()
            expect(page.get_by_text("1 row.")).to_be_visible()
            expect(page.get_by_role("link", name=f"Open row {ready_id}")).to_be_visible()
        page.goto(console.at("/references?status=failed"))
        page.get_by_role("link", name=f"Open row {late_id}").click()
        expect(row_status(page)).to_contain_text("failed")
        expect(page.locator("#row-error")).to_contain_text("404")
        shutil.copy(FIXTURES / "speech_only.mp4", media_server.root / "late.mp4")
        page.get_by_role("button", name="Retry").click()
        expect(page.get_by_role("status")).to_contain_text("Retry sent")
        expect(row_status(page)).to_contain_text("ready", timeout=120_000)  # htmx refreshes the row
        expect(page.locator("table.timeline")).to_contain_text("reference.retried")

        page.goto(console.at(f"/references/{gone_id}"))
        expect(row_status(page)).to_contain_text("failed")
        page.get_by_label("Video file").set_input_files(str(FIXTURES / "silent_text.mp4"))
        page.get_by_role("button", name="Attach file").click()
        expect(page.get_by_role("status")).to_contain_text("Attached silent_text.mp4")
        expect(row_status(page)).to_contain_text("ready", timeout=120_000)

        page.goto(console.at(f"/references/{ready_id}"))
        expect(row_status(page)).to_contain_text("ready")
        video = page.locator("video")
        expect(video).to_be_visible()
        page.wait_for_function("document.querySelector('video').readyState >= 1")  # metadata came through
        assert page.evaluate("document.querySelector('video').duration") > 1
        expect(page.locator("table.segments")).to_contain_text(re.compile("stop scrolling", re.I))
        expect(page.locator("dl.pairs").last).to_contain_text("pattern_interrupt")
        for event in ("reference.submitted", "reference.fetch.started", "reference.extract.done"):
            expect(page.locator("table.timeline")).to_contain_text(event)
        expect(page.get_by_role("row", name=re.compile("reference.submitted"))).to_contain_text(sent.message_id)
        shoot(page, screenshots, "row")

        for name, heading in (("queues", "Queues"), ("schedules", "Schedules"), ("dead-letters", "Dead letters")):
            page.get_by_role("navigation", name="Main").get_by_role("link", name=heading).click()
            expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
        page.goto(console.at("/schedules"))
        expect(page.get_by_role("row", name=re.compile("expire-assignments"))).to_contain_text("sched-host:4242")
        shoot(page, screenshots, "schedules")
        page.get_by_role("button", name="Run expire-assignments now").click()
        expect(page.get_by_role("status")).to_contain_text("sent expire_assignments for expire-assignments")
    finally:
        lock.release()
    drain(broker, worker)
    sent = conn.execute("SELECT details ->> 'message_id' AS message_id, actor FROM audit_log "
                        "WHERE event_type = 'schedule.run_now'").fetchone()
    assert sent["actor"].startswith("console:")
    ran = conn.execute("SELECT message_id FROM audit_log WHERE event_type = 'job.expire_assignments'").fetchone()
    assert ran["message_id"] == sent["message_id"]  # the message it sent is the one the worker ran

    actors = {r["event_type"]: r["actor"] for r in conn.execute(
        "SELECT event_type, actor FROM audit_log WHERE event_type IN ('reference.retried', 'reference.attached')")}
    assert set(actors) == {"reference.retried", "reference.attached"}
    assert all(a.startswith("console:") for a in actors.values()), actors


def test_the_workers_table_shows_each_worker_process_and_no_producer(broker, workers, console_settings, page):
    """Host, pid, version and queues of every `flashflow worker` process, from the worker registry;
    one killed goes silent; a process that only sends messages is not listed."""
    from jobs import runtime

    group = workers(FLASHFLOW_HEARTBEAT_TIMEOUT_S="2")  # beats every 1 s (worker_env)
    live = group.start("--queues", "fetch", "extract", threads=2)
    gone = group.start("--queues", "transcribe")
    # A producer: its message gives it a heartbeat in Dramatiq's set, as every sending process gets.
    broker.declare_queue("default")
    broker.enqueue(Message(queue_name="default", actor_name="expire_assignments", args=(), kwargs={}, options={}))
    assert broker.client.zscore(broker.keys.heartbeats, broker.broker_id) is not None
    wait_for(lambda: {e.pid for e in worker_registry.entries(broker.client, broker.namespace)} == {live.pid, gone.pid},
             timeout_s=90)
    group.kill(gone)

    url, served = serve_console(console_settings.model_copy(update={"heartbeat_timeout_s": 2}), runtime.current())
    try:
        page.goto(url)
        expect(page.locator("#workers tbody tr")).to_have_count(2)
        live_row = page.get_by_role("row", name=re.compile(rf"\b{live.pid}\b"))
        for text in (socket.gethostname(), importlib.metadata.version("flashflow-workers"), "extract, fetch", "alive"):
            expect(live_row).to_contain_text(text)
        gone_row = page.get_by_role("row", name=re.compile(rf"\b{gone.pid}\b"))
        expect(gone_row).to_contain_text("transcribe")
        expect(gone_row).to_contain_text("silent", timeout=15_000)  # 2 s after the kill; htmx refreshes every 5 s
        expect(page.get_by_text("1 alive")).to_be_visible()
        assert broker.broker_id not in page.content()
    finally:
        stop_console(served)
