"""`flashflow services up|down|status` and `flashflow doctor`, run as the installed console script."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import psycopg
import pytest
import redis

from flashflow_core.embedded.common import port_open
from tests.embedded_home import (
    FLASHFLOW,
    cli_env,
    home_fixture,  # noqa: F401 - the `home` fixture
    postmasters,
    valkeys,
)

pytestmark = pytest.mark.embedded


def flashflow(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run the console script on `home`, wide enough that rich tables are not cut."""
    return subprocess.run(
        [str(FLASHFLOW), *args],
        env={**cli_env(home), "COLUMNS": "250", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def _urls(stdout: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in stdout.splitlines() if "=" in line)


def test_up_status_down(home: Path) -> None:
    up = flashflow(home, "services", "up")
    assert up.returncode == 0, up.stderr
    urls = _urls(up.stdout)
    with psycopg.connect(urls["DATABASE_URL"]) as conn:
        assert conn.execute("SELECT current_database()").fetchone() == ("flashflow",)
    with redis.Redis.from_url(urls["REDIS_URL"]) as client:
        assert client.ping() is True

    assert _urls(flashflow(home, "services", "up").stdout) == urls

    status = flashflow(home, "services", "status", "--json")
    assert status.returncode == 0, status.stderr
    rows = {row["name"]: row for row in json.loads(status.stdout)}
    assert rows["postgres"]["pid"] == postmasters(home)[0].pid
    assert rows["valkey"]["pid"] == valkeys(home)[0].pid
    assert (rows["postgres"]["url"], rows["valkey"]["url"]) == (urls["DATABASE_URL"], urls["REDIS_URL"])

    table = flashflow(home, "services", "status")
    assert table.returncode == 0
    for row in rows.values():
        assert row["url"] in table.stdout and str(row["pid"]) in table.stdout and row["version"] in table.stdout
    assert table.stdout.count("embedded") == 2

    down = flashflow(home, "services", "down")
    assert down.returncode == 0, down.stderr
    assert down.stdout.splitlines() == [
        f"postgres: stopped (pid {rows['postgres']['pid']})",
        f"valkey: stopped (pid {rows['valkey']['pid']})",
    ]
    assert postmasters(home) == [] and valkeys(home) == []
    for url in urls.values():
        assert not port_open(int(url.rsplit(":", 1)[1].split("/")[0]))

    after = flashflow(home, "services", "status", "--json")
    assert after.returncode == 1
    assert [row["running"] for row in json.loads(after.stdout)] == [False, False]


def test_down_leaves_external_servers_alone(home: Path) -> None:
    down = flashflow(
        home, "services", "down", DATABASE_URL="postgresql://postgres@127.0.0.1:1/x", REDIS_URL="redis://127.0.0.1:1/0"
    )
    assert down.returncode == 0, down.stderr
    assert down.stdout.splitlines() == [
        "postgres: external (DATABASE_URL), left running",
        "valkey: external (REDIS_URL), left running",
    ]


def test_doctor_no_start_starts_nothing_and_fails(home: Path) -> None:
    result = flashflow(home, "doctor", "--no-start")

    assert result.returncode == 1
    assert "DATABASE_URL unset and no embedded server running" in result.stdout
    assert not (home / "postgres").exists() and postmasters(home) == [] and valkeys(home) == []


def test_doctor_starts_servers_reports_versions_and_exit_code_follows_migrations(home: Path) -> None:
    before = flashflow(home, "doctor")
    assert before.returncode == 1, before.stdout + before.stderr
    assert "pending" in before.stdout and "flashflow migrate" in before.stdout
    assert len(postmasters(home)) == 1 and len(valkeys(home)) == 1

    migrated = flashflow(home, "migrate")
    assert migrated.returncode == 0, migrated.stderr

    after = flashflow(home, "doctor")
    assert after.returncode == 0, after.stdout + after.stderr
    lines = {fields[0]: fields for fields in (line.split("\t") for line in after.stdout.splitlines())}
    assert lines["postgres"][1:3] == ["found", lines["postgres"][2]] and lines["postgres"][2].startswith("18.")
    assert lines["redis"][1] == "found" and lines["redis"][2].startswith("9.")
    for name in ("ffmpeg (imageio-ffmpeg)", "PyAV", "faster-whisper", "whisper model", "rapidocr"):
        assert lines[name][1] == "found", lines[name]
    assert lines["yt-dlp"][1] in ("found", "warning")  # warning: released more than 30 days ago

    report = json.loads(flashflow(home, "doctor", "--json").stdout)
    assert report["healthy"] is True
    assert {c["name"]: c["version"] for c in report["checks"]}["postgres"] == lines["postgres"][2]


def test_a_server_that_cannot_start_is_a_clear_error(home: Path) -> None:
    (home / "postgres").mkdir()
    (home / "postgres" / "notes.txt").write_text("not a database")

    result = flashflow(home, "services", "up")

    assert result.returncode == 1
    assert f"{home / 'postgres'} is not empty and is not a Postgres data folder" in result.stderr
    assert "Traceback" not in result.stderr
    assert postmasters(home) == []
