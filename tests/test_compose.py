"""docker-compose.yml and the Dockerfile, checked without Docker: the file validates against the
Compose Specification's JSON Schema, every command it runs exists in the `flashflow` CLI, and the
production settings the operations guide promises are there."""

from __future__ import annotations

import copy
import json
import re

import jsonschema
import pytest
import yaml

from tests.conftest import FIXTURES, ROOT
from workers.cli import build_parser

COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
VALIDATOR = jsonschema.Draft201909Validator(json.loads((FIXTURES / "compose" / "compose-spec.json").read_text()))
APP_SERVICES = {name for name, s in COMPOSE["services"].items() if s.get("image", "").startswith("flashflow-workers")}


def errors(document: dict) -> list[str]:
    return [f"{'/'.join(map(str, e.path))}: {e.message}" for e in VALIDATOR.iter_errors(document)]


def test_the_file_follows_the_compose_specification():
    assert errors(COMPOSE) == []


@pytest.mark.parametrize("mistake", ["restart_as_boolean", "unknown_key", "bad_depends_on_condition"])
def test_the_schema_catches_mistakes(mistake):
    broken = copy.deepcopy(COMPOSE)
    worker = broken["services"]["worker"]
    if mistake == "restart_as_boolean":
        broken["services"]["migrate"]["restart"] = False  # what an unquoted `restart: no` becomes
    elif mistake == "unknown_key":
        worker["replicas"] = 3
    else:
        worker["depends_on"]["migrate"]["condition"] = "service_done"
    assert errors(broken)


def _flashflow_commands() -> list[list[str]]:
    commands = [COMPOSE["services"][name]["command"] for name in sorted(APP_SERVICES)]
    for name in APP_SERVICES:
        test = COMPOSE["services"][name].get("healthcheck", {}).get("test", [])
        if test[:2] == ["CMD", "flashflow"]:
            commands.append(test[2:])
    return commands


@pytest.mark.parametrize("argv", _flashflow_commands(), ids=" ".join)
def test_every_command_exists_in_the_cli(argv):
    args = build_parser().parse_args(argv)  # exits (SystemExit 2) on an unknown command or option
    assert callable(args.handler)


def test_services_and_their_production_settings():
    services = COMPOSE["services"]
    assert APP_SERVICES == {"migrate", "worker", "worker-transcribe", "scheduler"}
    assert services["postgres"]["image"] == "postgres:15"
    redis_args = services["redis"]["command"]
    pairs = dict(zip(redis_args[1::2], redis_args[2::2]))
    assert pairs["--appendonly"] == "yes" and pairs["--appendfsync"] == "everysec"
    assert pairs["--maxmemory-policy"] == "noeviction"

    assert services["migrate"]["command"] == ["migrate"] and services["migrate"]["restart"] == "no"
    for name in ("worker", "worker-transcribe", "scheduler"):
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    for name, service in services.items():
        if name != "migrate":
            assert service["restart"] == "unless-stopped", name
            assert service["healthcheck"]["test"], name
    # `--scale worker=N` needs no fixed container name and no published host port.
    for name in ("worker", "worker-transcribe"):
        assert "container_name" not in services[name] and "ports" not in services[name]
    assert services["worker-transcribe"]["profiles"] == ["transcription"]
    assert services["worker-transcribe"]["command"][:3] == ["worker", "--queues", "transcribe"]
    assert "profiles" not in services["worker"] and "--queues" not in services["worker"]["command"]

    used = {v.split(":")[0] for s in services.values() for v in s.get("volumes", [])}
    assert used == set(COMPOSE["volumes"]) == {"pgdata", "redisdata", "media"}


def test_the_image_installs_ffmpeg_and_runs_the_cli():
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"apt-get install[^\n]*(\\\n[^\n]*)*\bffmpeg\b", dockerfile)
    assert re.search(r'^ENTRYPOINT \["tini", "--", "flashflow"\]$', dockerfile, re.MULTILINE)
    for path in re.findall(r"^COPY (.+) \./", dockerfile, re.MULTILINE):
        for part in path.split():
            assert (ROOT / part).exists(), f"the Dockerfile copies {part}, which is not in the repository"
