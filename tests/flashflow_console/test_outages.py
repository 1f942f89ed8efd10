"""A server that does not answer: the console says which in one line instead of a traceback, both
when it starts and while it runs."""

from __future__ import annotations

import logging

import pytest

from tests.flashflow_console.conftest import serve_console, stop_console
from tests.flashflow_console.test_auth import request

pytestmark = pytest.mark.timeout(120)
CLOSED = "redis://127.0.0.1:1/0"  # nothing listens on port 1


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
