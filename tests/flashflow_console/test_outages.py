"""A server that does not answer: the console says which in one line instead of a traceback, both
when it starts and while it runs, within seconds rather than after a pool's 30 s wait, and stops
at once on SIGTERM even while pages wait for Postgres."""

from __future__ import annotations

import logging
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

from tests.conftest import ROOT
from tests.flashflow_console.conftest import serve_console, stop_console
from tests.flashflow_console.test_auth import request
from tests.workers.processes import worker_env

pytestmark = pytest.mark.timeout(120)
CLOSED = "redis://127.0.0.1:1/0"  # nothing listens on port 1
POOL_DEFAULT_WAIT_S = 30  # psycopg_pool's wait for a connection, which pages used to sit through


def test_pages_name_the_server_that_does_not_answer(console_settings):
    url, served = serve_console(console_settings.model_copy(update={"redis_url": CLOSED}))
    try:
        status, body, _ = request(url + "/")
        assert status == 503 and "127.0.0.1:1" in body and "Traceback" not in body
        status, body, _ = request(url + "/references")  # Postgres alone still serves the list
        assert status == 200 and "Winners Bank" in body
    finally:
        stop_console(served)


def test_the_command_refuses_to_start_in_one_line(console_settings, monkeypatch, capsys):
    from workers.cli import main

    monkeypatch.setenv("DATABASE_URL", console_settings.database_url)
    monkeypatch.setenv("REDIS_URL", CLOSED)
    monkeypatch.setenv("FLASHFLOW_LOG_FORMAT", "text")
    handlers = logging.getLogger().handlers[:]
    try:
        code = main(["console", "--port", "0"])
    finally:  # main() points logging at this test's captured stderr, which closes after the test
        logging.getLogger().handlers[:] = handlers
    err = capsys.readouterr().err.strip()
    assert code == 4 and len(err.splitlines()) == 1 and "127.0.0.1:1" in err, err


def test_pages_say_postgres_is_unreachable_within_seconds(console_settings, proxied_postgres):
    url, served = serve_console(console_settings.model_copy(update={"database_url": proxied_postgres.url}))
    try:
        assert request(url + "/references")[0] == 200
        proxied_postgres.proxy.cut()  # open connections dropped, new ones refused
        for page in ("/", "/references", "/schedules"):
            started = time.monotonic()
            status, body, _ = request(url + page)
            took = time.monotonic() - started
            assert status == 503, (page, status, body)
            assert f"cannot reach Postgres at 127.0.0.1:{proxied_postgres.proxy.port}" in body, body
            assert proxied_postgres.password not in body and "Traceback" not in body
            print(f"{page}: 503 in {took:.1f} s")
            assert took < POOL_DEFAULT_WAIT_S / 3, f"{page} took {took:.1f} s"
        proxied_postgres.proxy.restore()
        deadline = time.monotonic() + 30  # the pool reconnects on its own once Postgres answers
        while request(url + "/references")[0] != 200:
            assert time.monotonic() < deadline, "the console did not recover"
            time.sleep(0.5)
    finally:
        stop_console(served)


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
def test_the_command_stops_at_once_while_pages_wait_for_postgres(stop, console_settings, proxied_postgres, tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = worker_env(console_settings.model_copy(update={"database_url": proxied_postgres.url}), tmp_path,
                     FLASHFLOW_LOG_FORMAT="text")
    log = tmp_path / "console.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "workers.cli", "console", "--port", str(port)], cwd=ROOT,
                                env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if request(url + "/references")[0] == 200:
                    break
            except OSError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        proxied_postgres.proxy.cut()
        waiting = [threading.Thread(target=_ask, args=(url + page,), daemon=True)
                   for page in ("/", "/references", "/schedules")]
        for thread in waiting:
            thread.start()
        time.sleep(0.5)  # the pages now wait for a database connection
        started = time.monotonic()
        proc.send_signal(stop)
        proc.wait(timeout=POOL_DEFAULT_WAIT_S + 15)
        took = time.monotonic() - started
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    print(f"stopped {took:.1f} s after {stop.name}")
    assert took < POOL_DEFAULT_WAIT_S / 3, f"stopped {took:.1f} s after {stop.name}\n{log.read_text()}"
    assert proxied_postgres.password not in log.read_text()


def _ask(url: str) -> None:
    try:
        request(url)
    except OSError:
        pass  # the console stopped before answering
