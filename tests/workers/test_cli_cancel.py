"""`flashflow cancel`, in process, on real Postgres."""

from __future__ import annotations

import pytest

from flashflow_core.db.pool import make_pool
from flashflow_core.winners.submit import ReferenceSubmission, submit_reference
from tests.workers.test_cli_winners import cli  # noqa: F401 - fixture

pytestmark = pytest.mark.timeout(60)


def test_cancel_stops_a_queued_row_once_and_names_who(cli, settings, conn):  # noqa: F811 - fixture
    with make_pool(settings) as pool:
        rid = str(submit_reference(pool, ReferenceSubmission(url="https://example.com/v/9.mp4",
                                                             submitted_by="test")).id)
    code, out, _ = cli("cancel", rid)
    assert (code, out.strip().split("\t")) == (0, [rid, "canceled", "fetch"])
    row = conn.execute("SELECT status, failed_stage, error_message FROM reference_videos WHERE id = %s",
                       (rid,)).fetchone()
    assert row["status"] == "failed" and row["failed_stage"] == "fetch"
    assert row["error_message"].startswith("canceled by cli:")
    code, out, _ = cli("cancel", rid)
    assert code == 1 and out == ""
    audit = conn.execute("SELECT actor FROM audit_log WHERE event_type = 'reference.canceled'").fetchall()
    assert [a["actor"] for a in audit] == [row["error_message"].removeprefix("canceled by ")]
