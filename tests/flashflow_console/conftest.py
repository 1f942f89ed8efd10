"""Fixtures for the console: the real app served by uvicorn on a loopback port, and one headless
Chromium per test session driven through Playwright.

The browser is the system Chromium (Debian's `chromium`, which `.ci/run` installs) when present,
else Playwright's own build (`python -m playwright install chromium`, which `make test` runs when
there is no system one). Without either, the browser tests skip saying so, except under CI
(CI=true or FFTEST_REQUIRE_BROWSER=1), where they fail.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from psycopg.conninfo import conninfo_to_dict

from flashflow_core.config import Settings
from tests.conftest import ROOT
from tests.tcp_proxy import TcpProxy
from tests.workers.processes import workers  # noqa: F401 - fixture

# Without the background-networking flags Chromium keeps calling Google's services, which the
# closed network here (and in CI) answers with nothing.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS_ENV = "FFTEST_SCREENSHOTS"


def system_chromium() -> str | None:
    """The system Chromium, if any (FFTEST_CHROMIUM overrides)."""
    for candidate in (os.environ.get("FFTEST_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium"),
                      shutil.which("chromium-browser")):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole session (each test gets its own context)."""
    from playwright.sync_api import Error, sync_playwright

    executable = system_chromium()
    manager = sync_playwright().start()
    try:
        try:
            the_browser = manager.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        except Error as exc:
            why = (f"cannot start Chromium ({executable or 'Playwright build'}): {str(exc).splitlines()[0]}; "
                   "install Debian's chromium (`apt-get install chromium`) or run "
                   "`.venv/bin/python -m playwright install chromium`")
            if os.environ.get("CI") or os.environ.get("FFTEST_REQUIRE_BROWSER"):
                pytest.fail(why)
            pytest.skip(why)
        yield the_browser
        the_browser.close()
    finally:
        manager.stop()


@dataclass
class Console:
    """A console being served: its base URL and the settings it runs with."""

    url: str
    settings: Settings

    def at(self, path: str) -> str:
        return self.url + path


@dataclass
class _Served:
    server: uvicorn.Server
    thread: threading.Thread


def serve_console(settings: Settings, runtime=None) -> tuple[str, _Served]:
    """Start the console app on a free loopback port in a thread; return its URL."""
    from flashflow_console.app import build_app

    app = build_app(settings, runtime)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on",
                                           root_path=settings.console_root_path))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True, name="console")
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the console did not start"
        time.sleep(0.02)
    return f"http://127.0.0.1:{sock.getsockname()[1]}", _Served(server, thread)


def stop_console(served: _Served) -> None:
    served.server.should_exit = True
    served.thread.join(timeout=20)


@pytest.fixture
def console_settings(settings: Settings) -> Settings:
    """The test settings, with the project's schedules.yaml."""
    return settings.model_copy(update={"schedules_file": ROOT / "schedules.yaml"})


@pytest.fixture
def console(broker, console_settings: Settings) -> Iterator[Console]:
    """The console on loopback with no token (so no sign-in), sharing the test's job runtime."""
    from jobs import runtime

    url, served = serve_console(console_settings, runtime.current())
    yield Console(url, console_settings)
    stop_console(served)


@pytest.fixture
def page(browser):
    """A fresh browser context and page; actions wait at most 15 s."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    the_page = context.new_page()
    yield the_page
    context.close()


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    """Where page screenshots go: FFTEST_SCREENSHOTS (docs/console/ to refresh the docs) or tmp."""
    folder = Path(os.environ.get(SCREENSHOTS_ENV) or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@dataclass
class ProxiedPostgres:
    """The test database through a proxy the test can cut: `url` has a password (Postgres on
    loopback trusts the connection and ignores it), which no page or line may show."""

    proxy: TcpProxy
    url: str
    password: str


@pytest.fixture
def proxied_postgres(db_url: str) -> Iterator[ProxiedPostgres]:
    """The test database behind a TcpProxy, cut after the test."""
    info = conninfo_to_dict(db_url)
    proxy = TcpProxy((info.get("host") or "127.0.0.1", int(info.get("port") or 5432)))
    proxy.restore()
    password = info.get("password") or "console-test-password-5d1e"
    yield ProxiedPostgres(proxy, f"postgresql://{info.get('user', 'postgres')}:{password}@127.0.0.1:{proxy.port}/"
                                 f"{info['dbname']}", password)
    proxy.cut()
