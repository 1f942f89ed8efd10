"""No `flashflow` command shows a secret: a distinct secret is planted in every secret-bearing setting
(passwords in every URL setting, the value of every key/token/secret setting), every command the
parser knows is run as a real process — with the servers answering, and again with them
unreachable — and its standard output, standard error (the logs, DEBUG level), its metrics page
and the rows it wrote are searched for each secret.

Commands are discovered from the parser, so a new command is covered without touching this file;
one whose required arguments cannot be guessed from their type fails here until EXAMPLE_ARGS
names them."""

from __future__ import annotations

import argparse
import json
import os
import queue
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from flashflow_core.config import Settings
from flashflow_core.redaction import is_secret_setting
from tests.conftest import FIXTURES, ROOT
from tests.redis_server import PrivateRedis
from workers.cli import build_parser

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

# Commands that run until stopped: after RUN_S (long enough to boot, log, beat and serve a metrics
# scrape) they get SIGTERM. Every other command must end by itself.
RUNS_UNTIL_STOPPED = {"worker", "scheduler", "demo", "console"}
# Pages read from a command that serves HTTP (the console; the metrics endpoint is read too).
CONSOLE_PAGES = ("/", "/references", "/references/{id}", "/dead-letters", "/queues", "/schedules")
RUN_S = 10.0
STOP_GRACE_S = 40.0
# Arguments for commands whose required positionals cannot be guessed from their type.
EXAMPLE_ARGS: dict[tuple[str, ...], list[str]] = {
    ("enqueue",): ["http://127.0.0.1:9/planted.mp4"],
    ("attach-transcript",): ["{id}", "{transcript}"],
    ("attach-file",): ["{id}", "{video}"],
    ("retry",): ["{id}"],
    ("cancel",): ["{id}"],
    ("show",): ["{id}"],
    ("schedule", "run"): ["expire-assignments"],
    ("dlq", "show"): ["1-0"],
    ("dlq", "requeue"): ["--all"],
    ("dlq", "purge"): ["--all"],
}


def _leaf_commands(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()) -> list[tuple]:
    """(command words, parser) of every runnable command."""
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        return [(prefix, parser)]
    return [leaf for name, sub in subs[0].choices.items() for leaf in _leaf_commands(sub, (*prefix, name))]


def _argv(words: tuple[str, ...], parser: argparse.ArgumentParser, values: dict[str, str]) -> list[str]:
    if words in EXAMPLE_ARGS:
        return [*words, *(a.format(**values) for a in EXAMPLE_ARGS[words])]
    argv = list(words)
    for action in parser._actions:
        if action.option_strings or not action.required:
            continue
        if action.choices:
            argv.append(str(next(iter(action.choices))))
        elif action.type is uuid.UUID:
            argv.append(values["id"])
        elif action.type is Path:
            argv.append(values["video"])
        else:
            pytest.fail(f"`flashflow {' '.join(words)}` needs {action.dest!r}: add an example to EXAMPLE_ARGS")
    return argv


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _planted(label: str) -> str:
    return f"planted{label}{secrets.token_hex(8)}"


@dataclass
class Scenario:
    """Environment every command of one run gets, and the secrets it carries."""

    name: str
    env: dict[str, str]
    secrets: dict[str, str]  # setting -> planted secret


def _secret_env(database_url: str, redis_url: str, openai_url: str, tag: str) -> Scenario:
    """Every secret-bearing setting with a distinct planted secret."""
    env, planted = {}, {}
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias
        var = str(alias.choices[0]) if alias is not None else f"FLASHFLOW_{name.upper()}"
        extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else None
        if is_secret_setting(name, extra):
            planted[var] = env[var] = _planted(tag + "key")
        elif name.endswith("_url") or "prox" in name:  # settings that hold URLs, which may hold passwords
            planted[var] = _planted(tag + "pw")
            base = {"DATABASE_URL": database_url, "REDIS_URL": redis_url, "OPENAI_BASE_URL": openai_url}.get(
                var, "http://user@127.0.0.1:9/")
            scheme, rest = base.split("://", 1)
            user, host = rest.split("@", 1) if "@" in rest else ("", rest)
            env[var] = f"{scheme}://{user}:{quote(planted[var], safe='')}@{host}"
            if isinstance(field.default_factory and field.default_factory(), dict):  # site=URL pairs
                env[var] = f"tiktok.com={env[var]}"
    return Scenario(tag, env, planted)


def _pg_url(db_url: str, port: int | None = None) -> str:
    """postgresql://user@host:port/db form of a test database URL (so a password can go in it)."""
    info = conninfo_to_dict(db_url)
    host = info.get("host", "127.0.0.1")
    return f"postgresql://{info.get('user', 'postgres')}@{host}:{port or info.get('port', 5432)}/{info['dbname']}"


@pytest.fixture
def secured_redis(tmp_path: Path):
    server = PrivateRedis(tmp_path / "redis", password=_planted("redispw"))
    server.start()
    yield server
    server.stop()


def _run_all(scenario: Scenario, base_env: dict[str, str], values: dict[str, str],
             workdir: Path) -> dict[str, tuple[int, str]]:
    """Run every command at once, each its own process (forked from one that imported the CLI);
    stop those that run until stopped after RUN_S. Return each one's exit code and all it showed."""
    workdir.mkdir()
    commands, ports = [], {}
    for words, parser in _leaf_commands(build_parser()):
        argv = _argv(words, parser, values)
        label = " ".join(words)
        ports[label] = (_free_port(), _free_port())
        commands.append({"label": label, "argv": argv, "stdout": str(workdir / f"{label}.out"),
                         "stderr": str(workdir / f"{label}.err"),
                         "env": {**base_env, **scenario.env, "FLASHFLOW_METRICS_PORT": str(ports[label][0]),
                                 "FLASHFLOW_CONSOLE_PORT": str(ports[label][1])}})
    (workdir / "commands.json").write_text(json.dumps(commands))
    server = subprocess.Popen([sys.executable, "-m", "tests.workers.forked_cli", str(workdir / "commands.json")],
                              cwd=ROOT, env=base_env, text=True, stdout=subprocess.PIPE)
    pids: dict[str, int] = {}
    codes: dict[str, int] = {}
    events: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [events.put(line) for line in server.stdout], daemon=True).start()
    started = time.monotonic()
    metrics: dict[str, str] = {}
    stopped = False
    while len(codes) < len(commands):
        try:
            kind, rest = events.get(timeout=0.2).rstrip("\n").split(" ", 1)
            label, number = rest.split("\t")
            (pids if kind == "started" else codes)[label] = int(number)
        except queue.Empty:
            pass
        elapsed = time.monotonic() - started
        if not stopped and elapsed > RUN_S:
            stopped = True
            running = sorted(RUNS_UNTIL_STOPPED & (pids.keys() - codes.keys()))
            token = scenario.env.get("FLASHFLOW_CONSOLE_TOKEN")
            with ThreadPoolExecutor(max_workers=len(running) or 1) as pool:
                metrics |= dict(zip(running, pool.map(lambda label: _scrape(*ports[label], token, values), running)))
            for label in running:
                _signal(pids[label], signal.SIGTERM)
        if elapsed > RUN_S + STOP_GRACE_S:  # stopped but still waiting on an unreachable server
            for label in RUNS_UNTIL_STOPPED & (pids.keys() - codes.keys()):
                _signal(pids[label], signal.SIGKILL)
        if elapsed > RUN_S + 120:
            for label in pids.keys() - codes.keys():
                _signal(pids[label], signal.SIGKILL)
            pytest.fail(f"still running after {RUN_S + 120:.0f} s: {sorted(pids.keys() - codes.keys())} "
                        "(add a command that runs until stopped to RUNS_UNTIL_STOPPED)")
    server.wait(timeout=30)
    return {label: (codes[label], f"--- stdout\n{(workdir / f'{label}.out').read_text()}\n--- stderr\n"
                    f"{(workdir / f'{label}.err').read_text()}\n--- metrics\n{metrics.get(label, '')}")
            for label in codes}


def _signal(pid: int, signum: int) -> None:
    try:
        os.killpg(pid, signum)
    except ProcessLookupError:
        pass  # it ended by itself meanwhile


def _scrape(metrics_port: int, console_port: int, token: str | None, values: dict[str, str]) -> str:
    """The metrics page and the console's pages, where the command serves them."""
    urls = {"metrics": f"http://127.0.0.1:{metrics_port}/metrics"}
    urls |= {page: f"http://127.0.0.1:{console_port}{page.format(**values)}" for page in CONSOLE_PAGES}
    pages = []
    for page, url in urls.items():  # a page that waits on an unreachable server gives up after 5 s
        request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
        try:
            with urllib.request.urlopen(request, timeout=5) as answer:
                pages.append(f"[{page}] {answer.status}\n{answer.read().decode()}")
        except urllib.error.HTTPError as exc:
            pages.append(f"[{page}] {exc.code}\n{exc.read().decode(errors='replace')}")
        except OSError:
            pass  # nothing serves this page in this command (or its servers are unreachable)
    return "\n".join(pages)


def test_no_command_shows_a_planted_secret(db_url, secured_redis, openai_server, tmp_path):
    closed_port = _free_port()
    reachable = _secret_env(_pg_url(db_url), secured_redis.url.replace(f":{secured_redis.password}@", "@"),
                            openai_server.base_url, "up")
    # The private Redis wants its own password; it is one more planted secret.
    reachable.env["REDIS_URL"] = secured_redis.url
    reachable.secrets["REDIS_URL"] = secured_redis.password
    unreachable = _secret_env(_pg_url(db_url, closed_port), f"redis://127.0.0.1:{closed_port}/0",
                              openai_server.base_url, "down")

    reference_id = str(uuid.uuid4())
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("INSERT INTO reference_videos (id, url, submitted_by, status, failed_stage, error_message) "
                     "VALUES (%s, 'http://127.0.0.1:9/x.mp4', 'cli', 'failed', 'fetch', 'planted row')", (reference_id,))
    transcript = tmp_path / "transcript.txt"
    transcript.write_text("a transcript someone typed\n")
    video = tmp_path / "video.mp4"
    shutil.copy(FIXTURES / "speech_only.mp4", video)
    values = {"id": reference_id, "video": str(video), "transcript": str(transcript)}
    base_env = {k: v for k, v in os.environ.items()
                if not k.startswith("FLASHFLOW_") and k not in ("DATABASE_URL", "REDIS_URL", "OPENAI_API_KEY",
                                                               "OPENAI_BASE_URL")}
    base_env.update(FLASHFLOW_HOME=str(tmp_path / "home"), FLASHFLOW_STORAGE_ROOT=str(tmp_path / "storage"),
                    FLASHFLOW_TOOLKIT="instant", FLASHFLOW_LOG_LEVEL="DEBUG", FLASHFLOW_LOG_FORMAT="json",
                    FLASHFLOW_FETCH_ALLOW_HOSTS="127.0.0.1", FLASHFLOW_INTAKE_SWEEP_S="1",
                    COLUMNS="500")  # tables wide enough that no value is wrapped across lines

    leaks, runs = [], {}
    for scenario in (reachable, unreachable):
        runs[scenario.name] = shown = _run_all(scenario, base_env, values, tmp_path / scenario.name)
        assert len(shown) >= 20, sorted(shown)
        for label, (_code, text) in shown.items():
            leaks += [f"[{scenario.name}] flashflow {label}: {var}" for var, secret in scenario.secrets.items()
                      if secret in text or quote(secret, safe="") in text]
    with psycopg.connect(db_url, autocommit=True) as conn:
        stored = "\n".join(row[0] for row in conn.execute(
            "SELECT row_to_json(a)::text FROM audit_log a UNION ALL SELECT row_to_json(r)::text "
            "FROM reference_videos r"))
    leaks += [f"stored rows: {var}" for var, secret in reachable.secrets.items() if secret in stored]
    assert not leaks, "planted secrets were shown:\n" + "\n".join(leaks)
    # The planted settings were really used: with them the servers answered, and without them not.
    assert runs["up"]["healthcheck"][0] == 0, runs["up"]["healthcheck"][1]
    assert runs["up"]["status"][0] == 0, runs["up"]["status"][1]
    assert runs["down"]["healthcheck"][0] == 1, runs["down"]["healthcheck"][1]
    assert f'"entity_id":"{reference_id}"' in stored  # retry or an attach command took the planted row
    assert "[/references/{id}] 200" in runs["up"]["console"][1]  # the console's pages were read, signed in
    config = runs["up"]["config"][1]
    for var in reachable.secrets:
        assert var in config


def test_a_bad_database_url_is_refused_without_its_password():
    secret = _planted("badscheme")
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLASHFLOW_")}
    env["DATABASE_URL"] = f"mysql://app:{secret}@db.internal:3306/flashflow"
    done = subprocess.run([sys.executable, "-m", "workers.cli", "config"], cwd=ROOT, env=env, text=True,
                          capture_output=True, timeout=60)
    assert done.returncode == 2
    assert "DATABASE_URL: Value error, must start with postgresql://" in done.stderr
    assert "mysql://app:****@db.internal:3306/flashflow" in done.stderr
    assert secret not in done.stdout + done.stderr
