"""`flashflow schedule list|run` in process, and two real `flashflow scheduler` processes
where the active one is killed."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path

import pytest
from rich.console import Console

from tests.conftest import ROOT
from tests.flashflow_core.job_rows import one
from workers.cli import main

pytestmark = pytest.mark.timeout(180)


@pytest.fixture
def cli(settings, monkeypatch, capsys):
    """Run `flashflow ARGS` in process with the test's settings; returns (exit code, stdout, stderr)."""
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("REDIS_URL", settings.redis_url)
    monkeypatch.setenv("FLASHFLOW_HOME", str(settings.home))
    monkeypatch.setenv("FLASHFLOW_LOG_FORMAT", "text")

    def run(*args: str) -> tuple[int, str, str]:
        out = io.StringIO()
        code = main(list(args), console=Console(file=out, width=250, highlight=False))
        return code, out.getvalue(), capsys.readouterr().err

    return run


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "schedules.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return str(path)


def test_list_checks_a_cron_line_against_a_date(cli, tmp_path):
    path = write(tmp_path, """
        schedules:
          - {name: weekday-morning, actor: expire_assignments, cron: "0 9 * * 1-5", timezone: Europe/London}
          - {name: sunday, actor: rollup_hook_stats, cron: "30 6 * * 7", enabled: false}
    """)
    code, out, _ = cli("schedule", "list", "--schedules", path, "--at", "2026-11-27T10:00", "--next", "2")
    assert code == 0
    rows = {fields[0]: fields for fields in (line.split("\t") for line in out.splitlines())}
    assert rows["weekday-morning"] == ["weekday-morning", "expire_assignments", "cron 0 9 * * 1-5", "Europe/London",
                                       "yes", "Mon 2026-11-30 09:00:00 GMT, Tue 2026-12-01 09:00:00 GMT"]
    assert rows["sunday"][4:] == ["no", "Sun 2026-11-29 06:30:00 UTC, Sun 2026-12-06 06:30:00 UTC"]

    code, out, _ = cli("schedule", "list", "--schedules", path, "--at", "2026-11-27T10:00", "--json")
    listed = {entry["name"]: entry for entry in json.loads(out)}
    assert listed["weekday-morning"] == {"name": "weekday-morning", "actor": "expire_assignments",
                                         "when": "cron 0 9 * * 1-5", "timezone": "Europe/London", "enabled": True,
                                         "next_runs": ["2026-11-30T09:00:00+00:00"]}
    assert listed["sunday"]["enabled"] is False


def test_list_reads_an_offset_time_as_given(cli, tmp_path):
    path = write(tmp_path, """
        schedules:
          - {name: nine, actor: expire_assignments, cron: "0 9 * * *", timezone: Europe/London}
    """)
    code, out, _ = cli("schedule", "list", "--schedules", path, "--at", "2026-07-01T08:30+00:00")
    assert code == 0 and "Thu 2026-07-02 09:00:00 BST" in out  # 09:00 BST on 1 July was 08:00 UTC


def test_list_refuses_bad_input_naming_it(cli, tmp_path):
    bad = write(tmp_path, """
        schedules:
          - {name: broken, actor: expire_assignments, cron: "0 9 * * 8"}
    """)
    code, _, err = cli("schedule", "list", "--schedules", bad)
    assert code == 2 and "entry 1 ('broken'): cron: day of week: 8 is out of range 0-7" in err
    code, _, err = cli("schedule", "list", "--schedules", str(ROOT / "schedules.yaml"), "--at", "next tuesday")
    assert code == 2 and "--at 'next tuesday' is not an ISO 8601 time" in err


def test_run_sends_the_schedule_message_now(cli, broker, tmp_path):
    path = write(tmp_path, """
        schedules:
          - {name: expiry, actor: expire_assignments, every: 5m, kwargs: {batch_size: 7}, enabled: false}
    """)
    code, out, _ = cli("schedule", "run", "expiry", "--schedules", path)
    assert code == 0 and out.startswith("sent expire_assignments for schedule expiry (message ")
    [message] = [json.loads(v) for v in broker.client.hgetall(f"{broker.namespace}:default.msgs").values()]
    assert (message["actor_name"], message["kwargs"]) == ("expire_assignments", {"batch_size": 7})
    assert message["message_id"] in out


def test_run_and_scheduler_refuse_unknown_names_and_actors(cli, broker, tmp_path):
    code, _, err = cli("schedule", "run", "nope", "--schedules", str(ROOT / "schedules.yaml"))
    assert code == 2 and "no schedule named 'nope'" in err and "expire-assignments" in err
    bad = write(tmp_path, """
        schedules:
          - {name: typo, actor: expire_assignmnts, every: 60}
    """)
    code, _, err = cli("scheduler", "--schedules", bad)
    assert code == 2 and "schedule 'typo': unknown actor 'expire_assignmnts'" in err
    bad = write(tmp_path, """
        schedules:
          - {name: wrong-arg, actor: renew_credits, every: 60, kwargs: {batch: 5}}
    """)
    code, _, err = cli("scheduler", "--schedules", bad)
    assert code == 2 and "schedule 'wrong-arg': bad kwargs: the arguments do not fit renew_credits" in err


def _sent(broker) -> Counter:
    raw = broker.client.hgetall(f"{broker.namespace}:default.msgs")
    return Counter(json.loads(v)["options"]["flashflow_fire_time"] for v in raw.values())


@pytest.mark.slow
def test_two_scheduler_processes_and_the_active_one_killed(settings, broker, conn, tmp_path):
    path = write(tmp_path, """
        schedules:
          - {name: every-second, actor: rollup_hook_stats, every: 1s, grace: 1m}
    """)
    env = {**os.environ, "DATABASE_URL": settings.database_url, "REDIS_URL": settings.redis_url,
           "FLASHFLOW_HOME": str(settings.home), "FLASHFLOW_LOG_FORMAT": "text"}
    command = [sys.executable, "-m", "workers.cli", "scheduler", "--schedules", path, "--standby-poll", "0.3"]
    procs = [subprocess.Popen(command, env=env, cwd=ROOT, start_new_session=True) for _ in range(2)]
    try:
        deadline = time.monotonic() + 60
        while one(conn, "SELECT count(*) FROM flashflow_schedule_fires") < 3 and time.monotonic() < deadline:
            time.sleep(0.2)
        active_pid = int(one(conn, "SELECT scheduler FROM flashflow_schedule_fires ORDER BY fire_time DESC LIMIT 1")
                         .rsplit(":", 1)[1])
        assert active_pid in {p.pid for p in procs}
        os.kill(active_pid, signal.SIGKILL)
        killed_at = time.monotonic()
        while time.monotonic() - killed_at < 4:
            time.sleep(0.2)
        schedulers = {r["scheduler"] for r in conn.execute("SELECT DISTINCT scheduler FROM flashflow_schedule_fires")}
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            p.wait(30)
    assert len(schedulers) == 2, "the standby took over after the active scheduler was killed"
    sent = _sent(broker)
    assert max(sent.values()) == 1, f"a tick was sent twice: {sent.most_common(2)}"
    assert one(conn, "SELECT count(*) FROM flashflow_schedule_fires") == len(sent)
    # The survivor exited on SIGTERM like a service should.
    assert sorted(p.returncode for p in procs) == [-signal.SIGKILL, 0]
