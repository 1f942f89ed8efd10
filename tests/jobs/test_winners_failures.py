"""Bad URLs and bad files each end `failed` with a specific message; refused addresses see no request."""

from __future__ import annotations

import time

import pytest

from flashflow_core.winners.submit import ReferenceSubmission
from tests.conftest import FIXTURES, drain
from tests.media_server import serve

pytestmark = pytest.mark.timeout(300)


def _enqueue(url: str) -> str:
    from jobs.winners import enqueue_submission

    return str(enqueue_submission(ReferenceSubmission(url=url, submitted_by="test")).id)


def _insert_raw(conn, url: str) -> str:
    """A row inserted straight into Postgres, as the web app may do, then its fetch message."""
    from jobs.winners import fetch_reference

    row = conn.execute("INSERT INTO reference_videos (url, submitted_by) VALUES (%s, 'web') RETURNING id",
                       (url,)).fetchone()
    fetch_reference.send(str(row["id"]))
    return str(row["id"])


def _failure(conn, reference_id: str) -> tuple[str, str, str]:
    row = conn.execute("SELECT status, failed_stage, error_message FROM reference_videos WHERE id = %s",
                       (reference_id,)).fetchone()
    return row["status"], row["failed_stage"], row["error_message"]


def test_each_bad_input_fails_with_a_specific_message(broker, worker, media_server, conn, tmp_path):
    video = (FIXTURES / "speech_only.mp4").read_bytes()
    cases = {
        "404": (media_server.add_status("gone.mp4", 404), "404"),
        "html": (media_server.add_html("page.mp4", "<html><body><p>hello</p></body></html>"), "HTML"),
        "empty": (media_server.add_bytes("empty.mp4", b""), "empty"),
        "truncated": (media_server.add_bytes("truncated.mp4", video[: len(video) // 3]), "truncated"),
        "metadata": ("http://169.254.169.254/latest/meta-data/", "metadata"),
    }
    ids = {name: _enqueue(url) for name, (url, _) in cases.items()}
    ids["file"] = _insert_raw(conn, "file:///etc/passwd")
    drain(broker, worker)

    for name, (_, words) in cases.items():
        status, stage, message = _failure(conn, ids[name])
        assert (status, stage) == ("failed", "fetch"), (name, message)
        assert message.startswith("fetch: ") and words.lower() in message.lower(), (name, message)
    status, stage, message = _failure(conn, ids["file"])
    assert (status, stage) == ("failed", "fetch")
    assert "http" in message and "file" in message


def test_limits_on_duration_and_size(broker, worker, media_server, conn, settings):
    from jobs import runtime

    runtime.configure(settings.model_copy(update={"fetch_max_duration_s": 3.0}))
    long_id = _enqueue(media_server.add_file("long.mp4", FIXTURES / "speech_only.mp4"))
    drain(broker, worker)
    status, _, message = _failure(conn, long_id)
    assert status == "failed" and "limit is 3 s" in message, message

    runtime.configure(settings.model_copy(update={"fetch_max_filesize_mb": 0.01}))
    for send_length in (True, False):
        big_id = _enqueue(media_server.add_file(f"big-{send_length}.mp4", FIXTURES / "speech_only.mp4",
                                                send_length=send_length))
        drain(broker, worker)
        status, _, message = _failure(conn, big_id)
        assert status == "failed" and "limit" in message and "MB" in message, message


def test_redirect_to_private_address_is_refused_without_a_request(broker, worker, media_server, conn, tmp_path):
    with serve(tmp_path / "private", host="127.0.0.2") as private:
        target = private.add_file("secret.mp4", FIXTURES / "speech_only.mp4")
        reference_id = _enqueue(media_server.add_redirect("hop.mp4", target))
        drain(broker, worker)
        status, stage, message = _failure(conn, reference_id)
        assert (status, stage) == ("failed", "fetch")
        assert "127.0.0.2" in message and "refused" in message.lower(), message
        assert private.hit_count() == 0


def test_throttled_site_is_paused_without_spending_the_videos_attempts(broker, worker, media_server, conn,
                                                                        redis_url):
    import redis as redis_client

    from jobs.site_limits import SiteLimits

    url = media_server.add_status("busy.mp4", 429, headers={"Retry-After": "2"})
    reference_id = _enqueue(url)
    limits = SiteLimits(redis_client.Redis.from_url(redis_url), per_site=1, slot_ttl_ms=60_000)

    deadline = time.monotonic() + 30
    while limits.paused_for("127.0.0.1") == 0:
        assert time.monotonic() < deadline, "the site was never paused"
        time.sleep(0.05)
    row = conn.execute("SELECT status, stage_attempts, lease_until FROM reference_videos WHERE id = %s",
                       (reference_id,)).fetchone()
    assert row["status"] == "needs_file" and row["stage_attempts"] == 0 and row["lease_until"] is None

    media_server.add_file("busy.mp4", FIXTURES / "speech_only.mp4")
    drain(broker, worker)
    assert _failure(conn, reference_id)[0] == "ready"
