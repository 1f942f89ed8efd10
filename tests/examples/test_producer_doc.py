"""docs/producers.md works as written: every fenced snippet in it is run or checked here. The JSON
message is valid against the published schemas and a real worker runs it; the inline Node snippet
runs with only its placeholders filled; the SQL insert runs verbatim; each command shown exists.
(The redis-cli script is run by test_producer_examples.py, and shown verbatim.)"""

from __future__ import annotations

import io
import json
import os
import re
import shlex
import subprocess
import uuid
from collections import Counter

import jsonschema
import pytest
from rich.console import Console

from tests.conftest import ROOT, drain
from tests.examples.test_producer_examples import node_example, run_default_queue_until  # noqa: F401 - fixture
from tests.flashflow_core.hooks.hook_rows import posted_video
from tests.flashflow_core.job_rows import insert, one
from workers.cli import build_parser, main

pytestmark = pytest.mark.timeout(300)
DOC = (ROOT / "docs" / "producers.md").read_text(encoding="utf-8")
FENCE = re.compile(r"^```(\w+)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
# The Node snippet's placeholders, and what fills them in the test.
SUGGESTION_PLACEHOLDER = '"<hook_suggestions.id, a uuid>"'
REVIEWER_PLACEHOLDER = '"<the reviewing admin\'s user id, a uuid>"'


def snippets(language: str) -> list[str]:
    return [body for lang, body in FENCE.findall(DOC) if lang == language]


def schema(name: str) -> jsonschema.Validator:
    document = json.loads((ROOT / "schemas" / f"{name}.json").read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(document, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def test_every_snippet_in_the_doc_is_exercised():
    assert Counter(lang for lang, _ in FENCE.findall(DOC)) == {"json": 1, "sh": 1, "js": 1, "sql": 1, "console": 1}


def test_the_json_message_is_valid_and_a_worker_runs_it(broker, conn, settings, monkeypatch):
    [text] = snippets("json")
    message = json.loads(text)
    assert list(schema("message").iter_errors(message)) == []
    assert list(schema(message["actor_name"]).iter_errors(message["kwargs"])) == []

    redis_id = message["options"]["redis_message_id"]
    with broker.client.pipeline(transaction=True) as pipe:  # HSET + RPUSH at once, as the doc says
        pipe.hset(f"dramatiq:{message['queue_name']}.msgs", redis_id, text)
        pipe.rpush(f"dramatiq:{message['queue_name']}", redis_id)
        pipe.execute()
    row = run_default_queue_until(broker, conn, message["kwargs"]["url"])
    assert row["submitted_by"] == message["kwargs"]["submitted_by"]

    for name, value in (("DATABASE_URL", settings.database_url), ("REDIS_URL", settings.redis_url)):
        monkeypatch.setenv(name, value)
    out = io.StringIO()
    assert main(["show", "--json", message["message_id"]], console=Console(file=out)) == 0
    assert json.loads(out.getvalue())["row"]["id"] == str(row["id"])


def test_the_node_snippet_runs_with_its_placeholders_filled(node_example, broker, worker, conn, redis_url):  # noqa: F811
    [text] = snippets("js")
    suggestion = insert(conn, "hook_suggestions", source_video_id=posted_video(conn), brand_name="Glow",
                        hook_type="text", hook_text="Day 30 of using this serum", hook_hash="h")["id"]
    reviewer = uuid.uuid4()
    assert text.count(SUGGESTION_PLACEHOLDER) == 1 and text.count(REVIEWER_PLACEHOLDER) == 1
    script = node_example.parent / "doc_snippet.mjs"
    script.write_text(text.replace(SUGGESTION_PLACEHOLDER, json.dumps(str(suggestion)))
                      .replace(REVIEWER_PLACEHOLDER, json.dumps(str(reviewer))), encoding="utf-8")
    done = subprocess.run(["node", str(script)], env={**os.environ, "REDIS_URL": redis_url},
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    drain(broker, worker)
    assert broker.client.zcard("dramatiq:default.XQ") == 0, "the documented message was dead-lettered"
    assert one(conn, "SELECT status FROM hook_suggestions") == "approved"
    assert one(conn, "SELECT approved_by FROM proven_hooks") == str(reviewer)


def test_the_sql_insert_runs_verbatim(conn):
    [text] = snippets("sql")
    conn.execute(text)
    row = conn.execute("SELECT * FROM reference_videos").fetchone()
    assert (row["status"], row["submitted_by"], row["correlation_id"]) == ("queued", "admin-page", None)


def test_every_command_shown_exists():
    [text] = snippets("console")
    commands = [line.removeprefix("$ ").split("#")[0] for line in text.splitlines() if line.startswith("$ flashflow")]
    assert len(commands) >= 5
    for command in commands:
        argv = [{"ID": "feed1234", "MESSAGE_ID": "0b8f5a52"}.get(word, word) for word in shlex.split(command)[1:]]
        assert callable(build_parser().parse_args(argv).handler), command
