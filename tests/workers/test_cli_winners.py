"""The Winners Bank commands, called in process as `flashflow ...`, with a real worker running."""

from __future__ import annotations

import io
import json
import logging
import shutil

import pytest
from rich.console import Console

from tests.conftest import FIXTURES, drain
from workers.cli import main

pytestmark = pytest.mark.timeout(600)


@pytest.fixture
def cli(settings, monkeypatch):
    """Run `flashflow ARGS` in process with the test's settings; returns (exit code, stdout, stderr)."""
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("REDIS_URL", settings.redis_url)
    monkeypatch.setenv("FLASHFLOW_STORAGE_ROOT", str(settings.media_root))
    monkeypatch.setenv("FLASHFLOW_HOME", str(settings.home))
    monkeypatch.setenv("FLASHFLOW_FETCH_ALLOW_HOSTS", "127.0.0.1")
    monkeypatch.setenv("FLASHFLOW_LOG_FORMAT", "text")

    def run(*args: str, stdin: str | bytes | None = None) -> tuple[int, str, str]:
        if stdin is not None:
            raw = stdin.encode() if isinstance(stdin, str) else stdin
            monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8"))
        out = io.StringIO()
        handlers = logging.getLogger().handlers[:]
        try:
            code = main(list(args), console=Console(file=out, width=200, highlight=False))
        finally:  # main() points logging at the test's captured stderr, which closes after the test
            logging.getLogger().handlers[:] = handlers
        return code, out.getvalue(), ""

    return run


def _status(conn, reference_id: str) -> dict:
    return conn.execute("SELECT * FROM reference_videos WHERE id = %s", (reference_id,)).fetchone()


def test_enqueue_prints_one_line_per_url_and_dedupes(cli, broker, worker, media_server, conn):
    shutil.copy(FIXTURES / "speech_only.mp4", media_server.root / "a.mp4")
    url = media_server.url("files/a.mp4")
    code, out, _ = cli("enqueue", url, url + "?utm_source=tiktok&fbclid=abc", "ftp://example.com/x.mp4")
    lines = [line.split("\t") for line in out.strip().splitlines()]
    assert code == 1  # one URL was refused
    assert lines[0][1:3] == ["queued", "new"]
    assert lines[1][0] == lines[0][0] and lines[1][2] == "existing"
    assert lines[2][:3] == ["", "", "refused"] and lines[2][3] == "ftp://example.com/x.mp4" and "http" in lines[2][4]
    drain(broker, worker)
    assert _status(conn, lines[0][0])["status"] == "ready"
    code, out, _ = cli("enqueue", url)
    assert code == 0 and out.split("\t")[1:3] == ["ready", "existing"]
    # Each submission of the existing URL is on its timeline (a person's: no message id).
    code, out, _ = cli("show", lines[0][0])
    events = [line.split("\t") for line in out.splitlines() if line.startswith("event\t")]
    resubmitted = [e for e in events if e[2] == "reference.resubmitted"]
    assert [(e[4], e[5], e[6]) for e in resubmitted] == [
        ("cli", "", f"submitted again while queued: {url}"), ("cli", "", f"submitted again while ready: {url}")]


def test_attach_file_resumes_a_failed_fetch(cli, broker, worker, media_server, conn):
    code, out, _ = cli("enqueue", media_server.add_status("private.mp4", 403))
    reference_id = out.split("\t")[0]
    drain(broker, worker)
    assert _status(conn, reference_id)["status"] == "failed"

    private = media_server.url("private.mp4")
    code, out, _ = cli("attach-file", private, str(FIXTURES / "speech_only.mp4"))  # the row, found by its URL
    assert code == 0 and out.split("\t")[:2] == [reference_id, "needs_transcription"]
    drain(broker, worker)
    row = _status(conn, reference_id)
    assert row["status"] == "ready", row["error_message"]
    transcript = conn.execute("SELECT transcript_text FROM reference_assets WHERE reference_video_id = %s "
                              "AND asset_type = 'transcript'", (reference_id,)).fetchone()
    assert "nobody talks about" in transcript["transcript_text"].lower()


def test_attach_file_refuses_a_ready_row_and_a_non_video(cli, broker, worker, media_server, conn, tmp_path):
    shutil.copy(FIXTURES / "speech_only.mp4", media_server.root / "b.mp4")
    _, out, _ = cli("enqueue", media_server.url("files/b.mp4"))
    reference_id = out.split("\t")[0]
    drain(broker, worker)
    code, _, _ = cli("attach-file", reference_id, str(FIXTURES / "speech_only.mp4"))
    assert code == 1
    assert _status(conn, reference_id)["status"] == "ready"
    text = tmp_path / "notes.txt"
    text.write_text("not a video")
    assert cli("attach-file", reference_id, str(text))[0] == 1


def test_attach_transcript_from_stdin_resumes_at_extraction(cli, broker, worker, media_server, conn):
    shutil.copy(FIXTURES / "no_speech_no_text.mp4", media_server.root / "quiet.mp4")
    _, out, _ = cli("enqueue", media_server.url("files/quiet.mp4"))
    reference_id = out.split("\t")[0]
    drain(broker, worker)
    assert _status(conn, reference_id)["failed_stage"] == "extract"

    code, out, _ = cli("attach-transcript", reference_id, "-",
                       stdin="Wait, you are washing your face wrong. Link in bio.")
    assert code == 0
    drain(broker, worker)
    row = _status(conn, reference_id)
    assert row["status"] == "ready", row["error_message"]
    extract = conn.execute("SELECT spoken_hook, cta FROM reference_extracts WHERE reference_video_id = %s",
                           (reference_id,)).fetchone()
    assert extract["spoken_hook"] == "Wait, you are washing your face wrong."
    assert "link in bio" in extract["cta"].lower()


def test_retry_starts_again_from_the_failed_stage(cli, broker, worker, media_server, conn):
    url = media_server.add_status("later.mp4", 404)
    _, out, _ = cli("enqueue", url)
    reference_id = out.split("\t")[0]
    drain(broker, worker)
    assert _status(conn, reference_id)["failed_stage"] == "fetch"

    media_server.add_file("later.mp4", FIXTURES / "speech_only.mp4")
    code, out, _ = cli("retry", reference_id[:8])  # a unique prefix of the id is enough
    assert code == 0 and out == f"{reference_id}\tretrying from fetch\n"
    drain(broker, worker)
    assert _status(conn, reference_id)["status"] == "ready"
    assert cli("retry", reference_id)[0] == 1  # ready rows are not retried


def test_status_json_counts_and_failures(cli, broker, worker, media_server, conn):
    cli("enqueue", media_server.add_status("gone.mp4", 404))
    drain(broker, worker)
    code, out, _ = cli("status", "--json")
    report = json.loads(out)
    assert code == 0
    assert report["counts"]["failed"] == 1 and report["counts"]["ready"] == 0
    assert report["failures"][0]["stage"] == "fetch" and "404" in report["failures"][0]["error"]


def test_enqueue_reads_urls_from_stdin(cli, broker, media_server, conn):
    first, second = media_server.url("files/one.mp4"), media_server.url("files/two.mp4")
    code, out, _ = cli("enqueue", "-", "--category", "skincare", stdin=f"{first}\n# a comment\n\n{second}\n")
    assert code == 0
    ids = [line.split("\t")[0] for line in out.strip().splitlines()]
    rows = conn.execute("SELECT url, category FROM reference_videos WHERE id = ANY(%s::uuid[]) ORDER BY url",
                        (ids,)).fetchall()
    assert [(r["url"], r["category"]) for r in rows] == [(first, "skincare"), (second, "skincare")]


def test_enqueue_without_urls_is_a_usage_error(cli):
    assert cli("enqueue")[0] == 2


@pytest.mark.parametrize(("stdin", "reason"), [
    (b"Stop scrolling. \xff Link in bio.", "not UTF-8 text"),
    (b"Stop scrolling.\x00", "holds a NUL character"),
    (b'{"segments": ' + b"[" * 10_000 + b"]" * 10_000 + b"}", "nested deeper than"),
])
def test_attach_transcript_refuses_bad_input_in_one_line(cli, conn, capsys, stdin, reason):
    row = conn.execute("INSERT INTO reference_videos (url, submitted_by) VALUES ('https://example.com/v/1', 'cli') "
                       "RETURNING id").fetchone()
    code, out, _ = cli("attach-transcript", str(row["id"]), "-", stdin=stdin)
    err = capsys.readouterr().err
    assert code == 2 and out == ""
    assert err.startswith("flashflow attach-transcript: -: the transcript") and reason in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert _status(conn, row["id"])["status"] == "queued"

