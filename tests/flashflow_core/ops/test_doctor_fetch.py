"""`flashflow doctor`'s fetching rows: yt-dlp's age, the JavaScript runtime, cookies files, proxies,
and the canary, which fetches a loopback video's metadata through the real guard and stores nothing."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import tempfile
import time
from datetime import date
from pathlib import Path

from rich.console import Console
from yt_dlp.version import __version__ as ytdlp_version

from flashflow_core.config import Settings
from flashflow_core.ops.doctor import YTDLP_MAX_AGE_DAYS, canary, check_ytdlp, healthy, ytdlp_age
from tests.conftest import FIXTURES
from tests.proxy_server import serve_proxy
from workers.cli import main


def test_an_old_ytdlp_is_a_warning_not_a_failure():
    fresh = ytdlp_age("2026.10.26", date(2026, 11, 10))
    assert (fresh.ok, fresh.warning, fresh.state, fresh.detail) == (True, False, "found",
                                                                    "released 2026-10-26, 15 days ago")
    old = ytdlp_age("2026.10.26", date(2026, 12, 1))
    assert (old.ok, old.warning, old.state) == (True, True, "warning")
    assert old.detail.startswith("released 2026-10-26, 36 days ago: older than 30 days") and healthy([old])
    assert not ytdlp_age("2026.10.26.232101", date(2026, 10, 26 + YTDLP_MAX_AGE_DAYS - 30 + 5)).warning
    assert ytdlp_age("nightly", date.today()).detail == "release date unknown (not a date-style version)"


def test_the_real_ytdlp_and_javascript_runtime_rows():
    rows = {row.name: row for row in check_ytdlp(Settings())}
    assert rows["yt-dlp"].version == ytdlp_version
    runtime = rows["JavaScript runtime (deno)"]
    assert runtime.required is False  # only YouTube needs it
    deno = shutil.which("deno")
    if deno is None:
        assert not runtime.ok and "[deno] extra" in runtime.detail
    else:
        shown = subprocess.run([deno, "--version"], capture_output=True, text=True, check=True).stdout
        assert runtime.ok and shown.startswith(f"deno {runtime.version}")


def test_cookies_files_and_proxies_are_checked(tmp_path):
    folder = tmp_path / "cookies"
    folder.mkdir()
    (folder / "tiktok.com.txt").write_text(
        "# Netscape HTTP Cookie File\n"
        f".tiktok.com\tTRUE\t/\tTRUE\t{int(time.time()) + 86400}\tsessionid\tabc\n"
        ".tiktok.com\tTRUE\t/\tTRUE\t1000\told\tx\n", encoding="utf-8")
    (folder / "instagram.com.txt").write_text("sessionid=abc; csrftoken=def\n", encoding="utf-8")
    with serve_proxy() as live:
        with serve_proxy() as gone:
            dead = gone.url
        settings = Settings(fetch_cookies_dir=folder, fetch_proxy=live.url,
                            fetch_site_proxies={"tiktok.com": dead, "youtube.com": "direct"})
        rows = {row.name: row for row in check_ytdlp(settings)}
    assert (rows["cookies tiktok.com"].ok, rows["cookies tiktok.com"].detail) == (True, "2 cookies, 1 expired")
    assert not rows["cookies instagram.com"].ok
    assert "instagram.com.txt is not a cookies file in Netscape format" in rows["cookies instagram.com"].detail
    assert rows[f"proxy 127.0.0.1:{live.port}"].ok
    dead_row = rows[f"proxy 127.0.0.1:{dead.rsplit(':', 1)[1]}"]
    assert not dead_row.ok and dead_row.detail.startswith("does not answer")


def test_the_canary_fetches_metadata_and_stores_nothing(media_server, tmp_path):
    url = media_server.add_file("clip.mp4", FIXTURES / "hook_speech_text.mp4")
    settings = Settings(fetch_allow_hosts=["127.0.0.1"], home=tmp_path / "home", fetch_socket_timeout_s=5)
    before = set(Path(tempfile.gettempdir()).glob("flashflow-canary-*"))

    row = canary(settings, url)
    assert (row.ok, row.version) == (True, "Generic")
    assert row.detail.endswith("1 format(s), direct") and "'clip'" in row.detail
    assert not (tmp_path / "home").exists()
    assert set(Path(tempfile.gettempdir()).glob("flashflow-canary-*")) == before

    with serve_proxy(host="127.0.0.2") as proxy:
        row = canary(settings.model_copy(update={"fetch_proxy": proxy.url}), url)
        assert row.ok and row.detail.endswith(f"through proxy 127.0.0.2:{proxy.port}") and proxy.tunnels

    gone = canary(settings, media_server.add_status("gone.mp4", 404))
    assert not gone.ok and "404" in gone.detail and gone.detail.startswith(media_server.url("gone.mp4"))
    refused = canary(settings, "http://127.0.0.3/v.mp4")
    assert not refused.ok and "127.0.0.3 is a loopback address" in refused.detail


def test_doctor_canary_from_the_command_line(media_server, settings, monkeypatch):
    url = media_server.add_file("clip.mp4", FIXTURES / "speech_only.mp4")
    for name, value in (("DATABASE_URL", settings.database_url), ("REDIS_URL", settings.redis_url),
                        ("FLASHFLOW_FETCH_ALLOW_HOSTS", "127.0.0.1"), ("FLASHFLOW_HOME", str(settings.home))):
        monkeypatch.setenv(name, value)
    out = io.StringIO()
    main(["doctor", "--no-start", "--json", "--canary", url], console=Console(file=out))
    rows = {row["name"]: row for row in json.loads(out.getvalue())["checks"]}
    assert rows["canary"]["state"] == "found" and rows["canary"]["version"] == "Generic"
    assert rows["yt-dlp"]["version"] == ytdlp_version and rows["yt-dlp"]["state"] in ("found", "warning")
