"""Operator actions in a real headless Chromium: dead letters requeued and purged after confirming,
a queue paused (its messages wait) and resumed (they run), a waiting row cancelled, each audited
with the console's actor."""

from __future__ import annotations

import json
import re
import shutil
import time
import uuid

import dramatiq
import pytest
from playwright.sync_api import expect

from tests.conftest import FIXTURES, drain
from tests.flashflow_console.test_pages import enqueue, row_status, shoot, wait_for
from tests.jobs.test_poison import envelope, push

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]


def test_dead_letters_are_requeued_and_purged_after_confirming(broker, worker, console, page, conn, screenshots):
    late, bad, bad2 = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    # A job sent before the workers that know it were deployed, and two payloads that are not JSON.
    push(broker.client, "default", late, json.dumps(envelope("test_console_late", {"label": "x"}, late)))
    push(broker.client, "default", bad, b"{oops")
    push(broker.client, "default", bad2, b"{oops again")
    wait_for(lambda: broker.client.zcard("dramatiq:default.XQ") == 3)

    page.goto(console.at("/dead-letters"))
    expect(page.get_by_role("heading", name=re.compile(r"default — 3 messages"))).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile("no actor named 'test_console_late'"))).to_be_visible()
    page.locator("summary").last.click()  # a JSON payload, opened
    shoot(page, screenshots, "dead-letters")

    ran: list[str] = []
    actor = dramatiq.actor(lambda label: ran.append(label), actor_name="test_console_late", queue_name="default",
                           broker=broker)
    try:
        page.get_by_role("button", name=f"Requeue {late}").click()
        expect(page.get_by_role("heading", name="Requeue 1 message of default?")).to_be_visible()
        assert ran == [] and broker.client.zscore("dramatiq:default.XQ", late) is not None  # asked first
        page.get_by_role("button", name="Yes, requeue 1 message").click()
        expect(page.get_by_role("status")).to_contain_text("requeued 1 message(s) of default")
        wait_for(lambda: ran == ["x"])
    finally:
        broker.actors.pop(actor.actor_name, None)

    expect(page.get_by_role("button", name=f"Requeue {bad}")).to_have_count(0)  # not JSON: it can never run
    expect(page.get_by_text("these can never run")).to_be_visible()
    page.get_by_role("button", name="Purge all 2").click()
    expect(page.get_by_role("heading", name="Purge 2 messages of default?")).to_be_visible()
    expect(page.get_by_text("deleted for good")).to_be_visible()
    shoot(page, screenshots, "dead-letters-confirm")
    page.get_by_role("button", name="Yes, purge 2 messages").click()
    expect(page.get_by_role("status")).to_contain_text("purged 2 message(s) of default")
    expect(page.get_by_text("No dead letters in any queue.")).to_be_visible()
    assert broker.client.zcard("dramatiq:default.XQ") == 0

    audited = sorted((r["event_type"], r["entity_id"]) for r in conn.execute(
        "SELECT event_type, entity_id, actor FROM audit_log WHERE event_type IN ('message.requeued', "
        "'message.purged') AND actor LIKE 'console:%%'"))
    assert audited == sorted([("message.requeued", late), ("message.purged", bad), ("message.purged", bad2)])


def test_a_paused_queue_holds_its_messages_until_resumed_and_a_waiting_row_is_cancelled(broker, worker, media_server, console, page, conn,
                                                         screenshots):
    page.goto(console.at("/queues"))
    page.get_by_role("button", name="Pause fetch").click()
    expect(page.get_by_role("status")).to_contain_text("fetch paused")
    expect(page.locator("#queue-fetch")).to_contain_text("paused")

    shutil.copy(FIXTURES / "speech_only.mp4", media_server.root / "held.mp4")
    shutil.copy(FIXTURES / "speech_only.mp4", media_server.root / "unwanted.mp4")
    held = enqueue(media_server.url("files/held.mp4"))
    unwanted = enqueue(media_server.url("files/unwanted.mp4"))
    page.goto(console.url)
    expect(page.locator("#queue-fetch td").first).to_have_text("2")  # both waiting
    expect(page.locator("#queue-fetch")).to_contain_text("paused by console:")
    time.sleep(2)  # many fetch rounds of the running worker
    assert conn.execute("SELECT status FROM reference_videos WHERE id = %s", (held,)).fetchone()["status"] == "queued"
    assert media_server.hit_count("files/held.mp4") == 0

    page.goto(console.at(f"/references/{unwanted}"))  # a queued row, cancelled while it waits
    expect(row_status(page)).to_contain_text("queued")
    page.get_by_role("button", name="Cancel").click()
    expect(page.get_by_role("status")).to_contain_text("Canceled")
    expect(row_status(page)).to_contain_text("failed at fetch")
    expect(page.locator("#row-error")).to_contain_text("canceled by console:")
    expect(page.get_by_role("button", name="Retry")).to_be_visible()

    page.get_by_role("link", name="Queues").click()
    shoot(page, screenshots, "queues")
    page.get_by_role("button", name="Resume fetch").click()
    expect(page.get_by_role("status")).to_contain_text("fetch resumed")
    page.goto(console.at(f"/references/{held}"))
    expect(row_status(page)).to_contain_text("ready", timeout=120_000)
    drain(broker, worker)  # the canceled row's fetch message ran too, and found nothing to do
    row = conn.execute("SELECT status, error_message FROM reference_videos WHERE id = %s", (unwanted,)).fetchone()
    assert row["status"] == "failed" and row["error_message"].startswith("canceled by console:")
    assert media_server.hit_count("files/unwanted.mp4") == 0

    events = [(r["event_type"], r["entity_id"]) for r in conn.execute(
        "SELECT event_type, entity_id FROM audit_log WHERE actor LIKE 'console:%%' ORDER BY created_at")]
    assert events == [("queue.paused", "fetch"), ("reference.canceled", unwanted), ("queue.resumed", "fetch")]
