"""A row's page over HTTP: what its state section shows depends on the row's status, compared by
name in the template (states.py), never by a spelled status."""

from __future__ import annotations

import uuid

import pytest

from flashflow_core.winners.states import ReferenceStatus
from tests.flashflow_console.test_auth import request

pytestmark = pytest.mark.timeout(60)


def test_the_last_attempts_error_shows_while_a_row_moves_and_not_once_it_failed(console, conn):
    moving, failed = uuid.uuid4(), uuid.uuid4()
    for rid, status in ((moving, ReferenceStatus.NEEDS_TRANSCRIPTION), (failed, ReferenceStatus.FAILED)):
        conn.execute("INSERT INTO reference_videos (id, url, submitted_by, status, last_error, error_message) "
                     "VALUES (%s, %s, 'test', %s, 'whisper ran out of memory', %s)",
                     (rid, f"https://example.com/{rid}", status,
                      "gave up after 3 attempts" if status == ReferenceStatus.FAILED else None))
    status, body, _ = request(console.at(f"/references/{moving}/live"))
    assert status == 200 and "Last attempt's error" in body and "whisper ran out of memory" in body
    status, body, _ = request(console.at(f"/references/{failed}/live"))
    assert status == 200 and "gave up after 3 attempts" in body  # the row's error says it all
    assert "Last attempt's error" not in body and "whisper ran out of memory" not in body
