"""Who may use the console: loopback only without a token; with tokens, a sign-in form or a bearer
token; every action needs the session's CSRF token; stored files only by row id."""

from __future__ import annotations

import logging
import re
import urllib.error
import urllib.parse
import urllib.request
import uuid

import pytest
from playwright.sync_api import expect
from pydantic import SecretStr

from flashflow_console.auth import TokenError, parse_tokens
from flashflow_console.server import ConsoleRefused, check_binding
from tests.flashflow_console.conftest import serve_console, stop_console
from tests.flashflow_console.test_pages import shoot

pytestmark = pytest.mark.timeout(120)

ALICE = "alice-secret-0123456789"
BOB = "bob-secret-9876543210xyz"


def request(url: str, method: str = "GET", data: dict | None = None, headers: dict | None = None):
    """(status, body, headers) of one HTTP request, redirects not followed."""
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    body = urllib.parse.urlencode(data, doseq=True).encode() if data is not None else None
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.build_opener(NoRedirect).open(req, timeout=20) as answer:
            return answer.status, answer.read().decode(), answer.headers
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode(), err.headers


def test_tokens_parse_and_bad_ones_are_refused_without_showing_them():
    assert [(t.name, t.secret) for t in parse_tokens(f"alice:{ALICE}, bob:{BOB}")] == [
        ("alice", ALICE.encode()), ("bob", BOB.encode())]
    assert [t.name for t in parse_tokens(ALICE)] == ["operator"]
    assert parse_tokens(None) == [] and parse_tokens("  ") == []
    for value, words in (("alice:tinysecret", "shorter than 16"), (f"al ice:{ALICE}", "the name"),
                         (f"a:{ALICE},a:{BOB}", "given twice")):
        with pytest.raises(TokenError, match=words) as refused:
            parse_tokens(value)
        assert not {ALICE, BOB, "tinysecret"} & set(re.findall(r"[\w-]+", str(refused.value)))


def test_listening_beyond_loopback_needs_a_token(settings):
    check_binding(settings, "127.0.0.1")
    check_binding(settings, "::1")
    check_binding(settings, "localhost")
    for host in ("0.0.0.0", "10.1.2.3", "console.internal", "::"):
        with pytest.raises(ConsoleRefused, match="needs FLASHFLOW_CONSOLE_TOKEN"):
            check_binding(settings, host)
    check_binding(settings.model_copy(update={"console_token": SecretStr(ALICE)}), "0.0.0.0")
    with pytest.raises(ConsoleRefused, match="shorter than 16") as refused:
        check_binding(settings.model_copy(update={"console_token": SecretStr("tiny")}), "127.0.0.1")
    assert "tiny" not in str(refused.value)


def test_cli_refuses_a_public_address_without_a_token_in_one_line(monkeypatch, capsys):
    from workers.cli import main

    monkeypatch.delenv("FLASHFLOW_CONSOLE_TOKEN", raising=False)
    monkeypatch.setenv("FLASHFLOW_LOG_FORMAT", "text")
    handlers = logging.getLogger().handlers[:]
    try:
        code = main(["console", "--host", "0.0.0.0", "--port", "8999"])
    finally:  # main() points logging at this test's captured stderr, which closes after the test
        logging.getLogger().handlers[:] = handlers
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert err.startswith("flashflow console: listening on 0.0.0.0 (not loopback) needs FLASHFLOW_CONSOLE_TOKEN")


@pytest.fixture
def signed_console(broker, console_settings):
    """The console with two named tokens."""
    from jobs import runtime

    settings = console_settings.model_copy(update={"console_token": SecretStr(f"alice:{ALICE},bob:{BOB}")})
    url, served = serve_console(settings, runtime.current())
    yield url
    stop_console(served)


@pytest.mark.browser
def test_sign_in_bearer_tokens_and_csrf(signed_console, browser, conn, screenshots, caplog):
    url = signed_console
    status, _, headers = request(url + "/queues?x=1")
    assert status == 303 and headers["location"] == "/login?next=%2Fqueues%3Fx%3D1"
    assert request(url + "/queues/fetch/pause", "POST", {})[0] == 401
    assert request(url + "/", headers={"Authorization": "Bearer not-a-token-at-all"})[0] == 401
    status, body, _ = request(url + "/", headers={"Authorization": f"Bearer {BOB}"})
    assert status == 200 and "Overview" in body
    # A script with a bearer token carries no ambient credential: no CSRF token needed.
    assert request(url + "/queues/fetch/pause", "POST", {}, {"Authorization": f"Bearer {BOB}"})[0] == 303
    assert [(r["actor"], r["event_type"]) for r in conn.execute(
        "SELECT actor, event_type FROM audit_log WHERE entity_type = 'queue'")] == [("console:bob", "queue.paused")]

    context = browser.new_context()
    page = context.new_page()
    try:
        page.goto(url + "/queues")
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
        shoot(page, screenshots, "sign-in")
        page.get_by_label("Token").fill(BOB + "x")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("alert")).to_contain_text("not one of FLASHFLOW_CONSOLE_TOKEN's")
        page.get_by_label("Token").fill(ALICE)
        page.get_by_role("button", name="Sign in").click()
        expect(page).to_have_url(re.compile(r"/queues$"))
        expect(page.get_by_role("status")).to_contain_text("signed in as alice")
        page.get_by_role("button", name="Resume fetch").click()
        expect(page.get_by_role("status")).to_contain_text("fetch resumed")

        cookie = next(c for c in context.cookies() if c["name"] == "ff_console")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
        session = {"Cookie": f"ff_console={cookie['value']}"}
        # The signed-in session's cookie alone is not enough to act: a forged form lacks the CSRF token.
        status, body, _ = request(url + "/queues/fetch/pause", "POST", {"csrf": "guessed"}, session)
        assert status == 403 and "CSRF" in body
        assert request(url + "/queues/fetch/pause", "POST", {}, session)[0] == 403
        assert request(url + "/queues", "GET", None, session)[0] == 200

        page.get_by_role("button", name="Sign out").click()
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    finally:
        context.close()
    assert [(r["actor"], r["event_type"]) for r in conn.execute(
        "SELECT actor, event_type FROM audit_log WHERE entity_type = 'queue' ORDER BY created_at")] == [
        ("console:bob", "queue.paused"), ("console:alice", "queue.resumed")]
    assert ALICE not in caplog.text and BOB not in caplog.text


def test_video_is_served_only_from_the_rows_own_storage_key(console, conn, settings):
    own, other = uuid.uuid4(), uuid.uuid4()
    for rid, key in ((own, f"reference/{own}/video.mp4"), (other, f"reference/{own}/video.mp4")):
        conn.execute("INSERT INTO reference_videos (id, url, submitted_by) VALUES (%s, %s, 'test')",
                     (rid, f"https://example.com/{rid}"))
        conn.execute("INSERT INTO reference_assets (reference_video_id, asset_type, storage_path) "
                     "VALUES (%s, 'mp4', %s)", (rid, key))
    stored = settings.media_root / f"reference/{own}/video.mp4"
    stored.parent.mkdir(parents=True)
    stored.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 8)

    status, _, headers = request(console.at(f"/references/{own}/video"), headers={"Range": "bytes=4-11"})
    assert status == 206 and headers["content-range"] == f"bytes 4-11/{stored.stat().st_size}"
    assert request(console.at(f"/references/{other}/video"))[0] == 404  # a key of another row
    conn.execute("UPDATE reference_assets SET storage_path = %s WHERE reference_video_id = %s",
                 (f"reference/{own}/../../../etc/passwd", own))
    assert request(console.at(f"/references/{own}/video"))[0] == 404
    assert request(console.at("/references/..%2F..%2Fetc%2Fpasswd/video"))[0] == 404
    assert request(console.at("/references/not-a-uuid"))[0] == 404


def test_passwords_in_urls_and_errors_are_not_shown(console, conn):
    rid = uuid.uuid4()
    conn.execute("INSERT INTO reference_videos (id, url, submitted_by, status, failed_stage, error_message) "
                 "VALUES (%s, %s, 'test', 'failed', 'fetch', %s)",
                 (rid, "https://ana:hunter2planted@cdn.example.com/v.mp4",
                  "fetch: proxy http://bob:swordfishplanted@10.0.0.1:3128 refused"))
    for path, shows in (("/", "refused"), ("/references", "cdn.example.com"), (f"/references/{rid}", "cdn.example.com")):
        status, body, _ = request(console.at(path))
        assert status == 200 and shows in body, path
        assert "hunter2planted" not in body and "swordfishplanted" not in body, path


@pytest.mark.browser
def test_a_stale_session_cookie_is_replaced_so_forms_still_work(console, page):
    page.context.add_cookies([{"name": "ff_console", "value": "expired.or.forged", "url": console.url}])
    page.goto(console.at("/queues"))
    page.get_by_role("button", name="Pause default").click()
    expect(page.get_by_role("status")).to_contain_text("default paused")
    assert request(console.at("/login"))[0] == 303  # no token: nobody signs in


def test_a_form_over_the_upload_limit_or_of_unknown_size_is_refused_before_reading_it(console):
    import http.client
    from urllib.parse import urlsplit

    where = urlsplit(console.url)
    for headers, status in (({"Content-Length": str(10**12)}, 413), ({"Transfer-Encoding": "chunked"}, 411)):
        client = http.client.HTTPConnection(where.hostname, where.port, timeout=10)
        try:
            client.putrequest("POST", "/queues/fetch/pause")
            for name, value in {"Content-Type": "multipart/form-data; boundary=x", **headers}.items():
                client.putheader(name, value)
            client.endheaders()  # no body follows: the answer must not wait for one
            assert client.getresponse().status == status
        finally:
            client.close()
