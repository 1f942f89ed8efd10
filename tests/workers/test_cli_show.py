"""`flashflow show`: a producer's message, run by a real worker through every stage, is found by its
message id, and the row's timeline, assets and hook package are printed for people, scripts and JSON."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.conftest import FIXTURES, drain
from tests.jobs.test_poison import envelope, push
from tests.workers.test_cli_dlq import cli  # noqa: F401 - fixture
from workers.cli_show import ASSET_COLUMNS, TIMELINE_COLUMNS

pytestmark = pytest.mark.timeout(300)


def test_a_producers_message_id_finds_its_row_with_timeline_assets_and_hooks(cli, broker, worker,  # noqa: F811
                                                                              media_server, conn):
    url = media_server.add_file("clip.mp4", FIXTURES / "hook_speech_text.mp4")
    rid = str(uuid.uuid4())
    message = envelope("enqueue_reference", {"url": url, "submitted_by": "web-app"}, rid)
    push(broker.client, "default", rid, json.dumps(message))
    drain(broker, worker)

    code, out, err = cli("show", message["message_id"])
    assert code == 0, err
    lines = [line.split("\t") for line in out.splitlines()]
    fields = {f[1]: f[2] for f in lines if f[0] == "field"}
    row = conn.execute("SELECT * FROM reference_videos WHERE url = %s", (url,)).fetchone()
    assert fields["id"] == str(row["id"]) and fields["status"] == "ready" and fields["submitted_by"] == "web-app"
    events = [f for f in lines if f[0] == "event"]
    assert events[0][2] == "reference.submitted" and events[0][5] == message["message_id"]
    # Every status change, with the attempt and the message of the stage that made it.
    assert [(e[2], e[3], e[4]) for e in events[1:]] == [
        ("reference.fetch.started", "1", "system"), ("reference.fetch.done", "1", "system"),
        ("reference.transcribe.done", "1", "system"), ("reference.extract.done", "1", "system")]
    stage_messages = [e[5] for e in events[1:]]
    assert all(stage_messages) and len(set(stage_messages)) == 3 and message["message_id"] not in stage_messages
    assert events[-1][6] == "processing -> ready"
    assert {f[1] for f in lines if f[0] == "asset"} >= {"mp4", "transcript"}
    hooks = {f[1]: f[2] for f in lines if f[0] == "hook"}
    assert hooks["spoken_hook"] and hooks["hook_family"]

    code, out, _ = cli("show", "--json", str(row["id"])[:8])  # the same row by a prefix of its id
    shown = json.loads(out)
    assert shown["row"]["id"] == fields["id"]
    assert [list(e) for e in shown["timeline"]] == [[c.key for c in TIMELINE_COLUMNS]] * len(events)
    assert [e["event"] for e in shown["timeline"]] == [e[2] for e in events]
    assert [list(a) for a in shown["assets"]] == [[c.key for c in ASSET_COLUMNS]] * len(shown["assets"])
    assert shown["hook_package"]["spoken_hook"] == hooks["spoken_hook"]

    code, out, _ = cli("show", url + "?utm_source=share")  # by its URL, tracking parameters and all
    assert code == 0 and f"field\tid\t{fields['id']}" in out
    code, _, err = cli("show", "0000")
    assert code == 3 and "no Winners Bank row matches '0000'" in err
