"""docker-compose.yml and the Dockerfile, checked without Docker: the file validates against the
Compose Specification's JSON Schema, every command it runs exists in the `flashflow` CLI, and the
production settings the operations guide promises are there."""

from __future__ import annotations

import copy
import json
import re
import tomllib

import jsonschema
import pytest
import yaml

from flashflow_console.app import ROUTES
from flashflow_core.config import Settings
from tests.conftest import FIXTURES, ROOT
from workers.cli import build_parser

COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
VALIDATOR = jsonschema.Draft201909Validator(json.loads((FIXTURES / "compose" / "compose-spec.json").read_text()))
APP_SERVICES = {name for name, s in COMPOSE["services"].items() if s.get("image", "").startswith("flashflow-workers")}
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
# Read by the openai client itself (organisation and project), so passed through as well.
OPENAI_CLIENT_VARIABLES = {"OPENAI_ORG_ID", "OPENAI_PROJECT_ID"}


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
    assert APP_SERVICES == {"migrate", "worker", "worker-transcribe", "scheduler", "console"}
    assert services["postgres"]["image"] == "postgres:15"
    redis_args = services["redis"]["command"]
    pairs = dict(zip(redis_args[1::2], redis_args[2::2]))
    assert pairs["--appendonly"] == "yes" and pairs["--appendfsync"] == "everysec"
    assert pairs["--maxmemory-policy"] == "noeviction"

    assert services["migrate"]["command"] == ["migrate"] and services["migrate"]["restart"] == "no"
    for name in ("worker", "worker-transcribe", "scheduler", "console"):
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

    assert {name for name, service in services.items() if "ports" in service} == {"console"}  # the only one

    used = {v.split(":")[0] for s in services.values() for v in s.get("volumes", [])}
    assert used == set(COMPOSE["volumes"]) == {"pgdata", "redisdata", "media", "models"}


def test_the_console_is_published_on_loopback_only_in_its_own_profile():
    console = COMPOSE["services"]["console"]
    assert console["image"] == COMPOSE["services"]["worker"]["image"]
    assert console["profiles"] == ["console"]  # `docker compose up -d` alone does not start it
    assert console["command"] == ["console", "--host", "0.0.0.0"]  # every address of its container...
    assert console["ports"] == ["127.0.0.1:8484:8484"]  # ...published on the host's loopback only
    assert console["environment"]["FLASHFLOW_CONSOLE_PORT"] == "8484"  # a port set in .env cannot break the mapping
    # The token comes from .env or the shell like every setting (None: passed through when set), and
    # nothing in the file requires it: a `${VAR:?}` would make every compose command fail without it.
    # Without it `flashflow console --host 0.0.0.0` refuses to start (tests/flashflow_console/test_auth.py).
    assert console["environment"]["FLASHFLOW_CONSOLE_TOKEN"] is None
    # A reverse proxy on the host reaches the container from Docker's gateway: uvicorn's trust list
    # must be settable, or the session cookie is never marked Secure behind TLS.
    assert "FORWARDED_ALLOW_IPS" in console["environment"] and console["environment"]["FORWARDED_ALLOW_IPS"] is None
    lines = (ROOT / "docker-compose.yml").read_text(encoding="utf-8").splitlines()
    assert not [line for line in lines if ":?" in line and not line.lstrip().startswith("#")]
    # The health check asks the console itself for its sign-in page, a route that needs no database.
    check = console["healthcheck"]["test"]
    assert check[:3] == ["CMD", "python", "-c"] and "urlopen('http://127.0.0.1:8484/login'" in check[3]
    assert {route.path for route in ROUTES if getattr(route, "name", None) == "login_form"} == {"/login"}


@pytest.mark.parametrize("name", ["Dockerfile", "Dockerfile.gpu"])
def test_the_images_install_ffmpeg_and_tini(name):
    dockerfile = (ROOT / name).read_text(encoding="utf-8")
    assert re.search(r"apt-get install[^\n]*(\\\n[^\n]*)*\bffmpeg\b", dockerfile)
    assert re.search(r"apt-get install[^\n]*(\\\n[^\n]*)*\btini\b", dockerfile)


def settings_variables() -> set[str]:
    """The environment variable of every setting FlashFlow reads."""
    return {str(field.validation_alias.choices[0]) if field.validation_alias is not None
            else f"FLASHFLOW_{name.upper()}" for name, field in Settings.model_fields.items()}


def test_every_setting_reaches_every_app_container():
    listed = set(COMPOSE["x-flashflow-env"])
    missing = settings_variables() - listed
    assert not missing, f"add to x-flashflow-env in docker-compose.yml: {', '.join(sorted(missing))}"
    assert listed - settings_variables() == OPENAI_CLIENT_VARIABLES  # nothing stale
    for name in APP_SERVICES:
        assert set(COMPOSE["services"][name]["environment"]) >= settings_variables(), name
    # Only the deployment's own facts have values; everything else passes through from .env or the shell.
    valued = {k for k, v in COMPOSE["x-flashflow-env"].items() if v is not None}
    assert valued == {"DATABASE_URL", "REDIS_URL", "FLASHFLOW_HOME", "FLASHFLOW_STORAGE_ROOT",
                      "FLASHFLOW_MODEL_CACHE", "FLASHFLOW_LOG_FORMAT"}


def test_media_and_the_model_cache_are_named_volumes_at_the_configured_paths():
    env = COMPOSE["x-flashflow-env"]
    for name in APP_SERVICES:
        mounts = dict(v.split(":", 1) for v in COMPOSE["services"][name]["volumes"])
        assert mounts == {"media": env["FLASHFLOW_STORAGE_ROOT"], "models": env["FLASHFLOW_MODEL_CACHE"]}, name


def dockerfile(name: str) -> list[tuple[str, str]]:
    """(instruction, arguments) of each instruction, continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", (ROOT / name).read_text(encoding="utf-8"))
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in text.splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def env_of(instructions: list[tuple[str, str]]) -> dict[str, str]:
    return dict(pair.split("=", 1) for kind, args in instructions if kind == "ENV" for pair in args.split())


@pytest.mark.parametrize("name", ["Dockerfile", "Dockerfile.gpu"])
def test_images_install_from_the_lock_file_only(name):
    steps = dockerfile(name)
    runs = [args for kind, args in steps if kind == "RUN"]
    assert any(kind == "COPY" and "uv.lock" in args.split() for kind, args in steps)
    syncs = [cmd for args in runs for cmd in args.split("&&") if "uv sync" in cmd]
    assert syncs and all("--frozen" in cmd for cmd in syncs)  # never re-resolved at build time
    assert not any(re.search(r"\bpip3? install\b|uv pip install|uv add|uv lock", args) for args in runs)
    copied = {args.split()[0] for kind, args in steps if kind == "COPY" and not args.startswith("--from")}
    packages = {pattern.rstrip("*") for pattern in PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"]}
    assert packages <= copied, f"{name} does not copy {packages - copied}"
    for path in copied:
        assert (ROOT / path).exists(), f"{name} copies {path}, which is not in the repository"
    env = env_of(steps)
    workdir = [args for kind, args in steps if kind == "WORKDIR"][-1]
    assert env["FLASHFLOW_SCHEDULES_FILE"] == f"{workdir}/schedules.yaml" and "schedules.yaml" in copied
    assert env["FLASHFLOW_HOME"] == COMPOSE["x-flashflow-env"]["FLASHFLOW_HOME"]
    assert ("ENTRYPOINT", '["tini", "--", "flashflow"]') in steps
    cmd = json.loads([args for kind, args in steps if kind == "CMD"][-1])
    assert callable(build_parser().parse_args(cmd).handler)


def test_the_image_ships_deno_for_ytdlp():
    runs = [args for kind, args in dockerfile("Dockerfile") if kind == "RUN"]
    assert all("--extra deno" in cmd for args in runs for cmd in args.split("&&") if "uv sync" in cmd)
    assert PYPROJECT["project"]["optional-dependencies"]["deno"] == ["yt-dlp[deno]"]


def test_the_transcription_profile_runs_the_cuda_image_on_a_gpu():
    steps = dockerfile("Dockerfile.gpu")
    base = [args for kind, args in steps if kind == "FROM"][0]
    assert re.fullmatch(r"nvidia/cuda:12\.[\d.]+-cudnn-runtime-ubuntu[\d.]+", base), base  # cuBLAS + cuDNN 9
    assert env_of(steps)["FLASHFLOW_WHISPER_DEVICE"] == "cuda"
    service = COMPOSE["services"]["worker-transcribe"]
    assert service["build"] == {"context": ".", "dockerfile": "Dockerfile.gpu"}
    assert service["image"] != COMPOSE["services"]["worker"]["image"]
    [device] = service["deploy"]["resources"]["reservations"]["devices"]
    assert device["driver"] == "nvidia" and "gpu" in device["capabilities"]
    assert service["environment"]["FLASHFLOW_WHISPER_DEVICE"] == "${FLASHFLOW_WHISPER_DEVICE:-cuda}"
