"""The embedded Postgres and Valkey servers: start, reuse across processes, one server under a race,
recovery from a stale state file, clean stop."""

from __future__ import annotations

import json
import os
import pwd
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psycopg
import pytest
import redis

from flashflow_core.embedded.common import RESERVED_PORTS, port_open, run_as_kwargs, wait_gone
from flashflow_core.embedded.services import (
    STATE_FILE,
    ensure_services,
    services_status,
    stop_services,
)
from tests.embedded_home import (
    FLASHFLOW,
    cli_env,
    embedded_settings,
    home_fixture,  # noqa: F401 - the `home` fixture
    postmasters,
    valkeys,
)

pytestmark = pytest.mark.embedded


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1].split("/", 1)[0])


def _state(home: Path) -> dict:
    return json.loads((home / STATE_FILE).read_text())


def _sql(url: str, query: str) -> object:
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(query).fetchone()[0]  # type: ignore[index]


def test_first_start_serves_sql_and_ping_on_loopback(home: Path) -> None:
    settings = embedded_settings(home)
    resolved = ensure_services(settings)

    assert resolved.database_url.startswith("postgresql://postgres@127.0.0.1:")
    assert resolved.redis_url.startswith("redis://127.0.0.1:")
    assert _port(resolved.database_url) not in RESERVED_PORTS
    assert _port(resolved.redis_url) not in RESERVED_PORTS
    assert resolved.home == settings.home and settings.database_url is None

    assert _sql(resolved.database_url, "SELECT current_database()") == "flashflow"
    assert _sql(resolved.database_url, "SHOW listen_addresses") == "127.0.0.1"
    assert _sql(resolved.database_url, "SHOW data_directory") == str(home / "postgres")
    with redis.Redis.from_url(resolved.redis_url) as client:
        assert client.ping() is True
        assert client.config_get("bind")["bind"] == "127.0.0.1"
        assert client.config_get("dir")["dir"] == str(home / "valkey")

    state = _state(home)
    assert state["postgres"]["port"] == _port(resolved.database_url)
    assert state["valkey"]["port"] == _port(resolved.redis_url)
    for name in ("postgres", "valkey"):
        pid = state[name]["pid"]
        # Daemonised: a session of its own, so Ctrl-C in the starting terminal never reaches it.
        assert os.getsid(pid) == pid != os.getsid(0)
    assert [p.pid for p in postmasters(home)] == [state["postgres"]["pid"]]
    assert [p.pid for p in valkeys(home)] == [state["valkey"]["pid"]]


def test_given_urls_are_kept_and_start_nothing(home: Path) -> None:
    settings = embedded_settings(home).model_copy(
        update={"database_url": "postgresql://someone@db.example:5432/x", "redis_url": "redis://cache.example:6379/3"}
    )
    assert ensure_services(settings) == settings
    assert not (home / STATE_FILE).exists() and not (home / "postgres").exists()


def test_only_the_unset_url_gets_an_embedded_server(home: Path) -> None:
    settings = embedded_settings(home).model_copy(update={"database_url": "postgresql://someone@db.example/x"})
    resolved = ensure_services(settings)

    assert resolved.database_url == "postgresql://someone@db.example/x"
    with redis.Redis.from_url(resolved.redis_url) as client:
        assert client.ping() is True
    assert not (home / "postgres").exists()
    assert postmasters(home) == []


def test_later_calls_and_other_processes_reuse_the_running_servers(home: Path) -> None:
    first = ensure_services(embedded_settings(home))
    state = _state(home)

    again = ensure_services(embedded_settings(home))
    assert (again.database_url, again.redis_url) == (first.database_url, first.redis_url)
    assert _state(home) == state

    out = subprocess.run(
        [str(FLASHFLOW), "services", "status", "--json"],
        env=cli_env(home), capture_output=True, text=True, timeout=60,
    )
    assert out.returncode == 0, out.stderr
    rows = {row["name"]: row for row in json.loads(out.stdout)}
    assert rows["postgres"]["pid"] == state["postgres"]["pid"]
    assert rows["postgres"]["url"] == first.database_url
    assert rows["valkey"]["pid"] == state["valkey"]["pid"]
    assert rows["valkey"]["url"] == first.redis_url
    assert all(row["running"] and row["kind"] == "embedded" for row in rows.values())
    assert len(postmasters(home)) == 1 and len(valkeys(home)) == 1


_START_AND_PRINT = textwrap.dedent(
    """
    import json, sys
    from flashflow_core.config import Settings
    from flashflow_core.embedded.services import ensure_services
    s = ensure_services(Settings(home=sys.argv[1], database_url=None, redis_url=None))
    print(json.dumps([s.database_url, s.redis_url]))
    """
)


def test_processes_starting_together_share_one_server_each(home: Path) -> None:
    procs = [
        subprocess.Popen([sys.executable, "-c", _START_AND_PRINT, str(home)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        results.append(json.loads(out))

    assert results[0] == results[1] == results[2]
    assert len(postmasters(home)) == 1
    assert len(valkeys(home)) == 1
    assert _sql(results[0][0], "SELECT 1") == 1


def test_stale_state_after_a_crash_leads_to_a_fresh_start(home: Path) -> None:
    first = ensure_services(embedded_settings(home))
    old = _state(home)
    for name in ("postgres", "valkey"):
        os.kill(old[name]["pid"], signal.SIGKILL)
        assert wait_gone(old[name]["pid"], 10)
    # After a reboot the pid in postmaster.pid may belong to an unrelated live process of the
    # server's own user, which Postgres itself would take for a running postmaster.
    owner = pwd.getpwuid((home / "postgres").stat().st_uid).pw_name if os.geteuid() == 0 else None
    squatter = subprocess.Popen(["sleep", "60"], **run_as_kwargs(owner))  # type: ignore[call-overload]
    try:
        pid_file = home / "postgres" / "postmaster.pid"
        lines = pid_file.read_text().splitlines()
        pid_file.write_text("\n".join([str(squatter.pid), *lines[1:]]) + "\n")

        resolved = ensure_services(embedded_settings(home))
    finally:
        squatter.kill()
        squatter.wait()

    new = _state(home)
    assert new["postgres"]["pid"] != old["postgres"]["pid"]
    assert new["valkey"]["pid"] != old["valkey"]["pid"]
    assert resolved.database_url == new["postgres"]["url"]
    assert _sql(resolved.database_url, "SELECT current_database()") == "flashflow"
    with redis.Redis.from_url(resolved.redis_url) as client:
        assert client.ping() is True
    assert first.home == resolved.home
    assert len(postmasters(home)) == 1 and len(valkeys(home)) == 1


def test_a_state_file_naming_dead_pids_is_ignored(home: Path) -> None:
    home.mkdir(exist_ok=True)
    dead = subprocess.Popen(["true"])
    dead.wait()
    fake = {"pid": dead.pid, "port": 1, "url": "x", "version": "", "data_dir": "x"}
    (home / STATE_FILE).write_text(json.dumps({"postgres": fake, "valkey": fake}))

    resolved = ensure_services(embedded_settings(home))

    assert _sql(resolved.database_url, "SELECT 1") == 1
    assert _state(home)["postgres"]["pid"] == postmasters(home)[0].pid


def test_servers_survive_ctrl_c_of_the_process_that_started_them(home: Path) -> None:
    script = _START_AND_PRINT + "import time; sys.stdout.flush(); time.sleep(60)\n"
    starter = subprocess.Popen([sys.executable, "-c", script, str(home)], stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True, start_new_session=True)
    try:
        database_url, redis_url = json.loads(starter.stdout.readline())  # type: ignore[union-attr]
        os.killpg(starter.pid, signal.SIGINT)
        starter.wait(timeout=30)
    finally:
        if starter.poll() is None:
            starter.kill()
        starter.stdout.close()  # type: ignore[union-attr]
        starter.wait()

    assert starter.returncode != 0
    time.sleep(0.5)
    assert _sql(database_url, "SELECT 1") == 1
    with redis.Redis.from_url(redis_url) as client:
        assert client.ping() is True


def test_stop_closes_ports_ends_processes_and_keeps_data(home: Path) -> None:
    resolved = ensure_services(embedded_settings(home))
    state = _state(home)
    with psycopg.connect(resolved.database_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE kept (v text)")
        conn.execute("INSERT INTO kept VALUES ('still here')")
    with redis.Redis.from_url(resolved.redis_url) as client:
        client.set("kept", "still here")

    lines = stop_services(embedded_settings(home))

    assert lines == [
        f"postgres: stopped (pid {state['postgres']['pid']})",
        f"valkey: stopped (pid {state['valkey']['pid']})",
    ]
    assert not port_open(state["postgres"]["port"]) and not port_open(state["valkey"]["port"])
    assert postmasters(home) == [] and valkeys(home) == []
    assert _state(home) == {}
    assert [s.running for s in services_status(embedded_settings(home))] == [False, False]
    assert stop_services(embedded_settings(home)) == ["postgres: not running", "valkey: not running"]

    again = ensure_services(embedded_settings(home))
    assert _sql(again.database_url, "SELECT v FROM kept") == "still here"
    with redis.Redis.from_url(again.redis_url) as client:
        assert client.get("kept") == b"still here"


def test_status_reports_external_services_without_starting_anything(home: Path, server_urls: tuple[str, str]) -> None:
    settings = embedded_settings(home).model_copy(
        update={"database_url": server_urls[0], "redis_url": server_urls[1]}
    )
    statuses = services_status(settings)

    assert [(s.name, s.kind, s.url, s.running) for s in statuses] == [
        ("postgres", "external", server_urls[0], True),
        ("valkey", "external", server_urls[1], True),
    ]
    assert all(s.version for s in statuses)
    assert stop_services(settings) == [
        "postgres: external (DATABASE_URL), left running",
        "valkey: external (REDIS_URL), left running",
    ]
    closed = settings.model_copy(update={"database_url": "postgresql://postgres@127.0.0.1:1/x"})
    assert services_status(closed)[0].running is False
    assert not (home / "postgres").exists()


def test_suite_fixtures_reach_a_migrated_database_and_redis(conn: psycopg.Connection, redis_url: str) -> None:
    (row,) = conn.execute("SELECT count(*) AS n FROM flashflow_migrations.applied").fetchall()
    assert row["n"] > 0
    with redis.Redis.from_url(redis_url) as client:
        client.set("probe", "1")
        assert client.get("probe") == b"1"
