"""The `flashflow` entry point itself: --version, options accepted after the subcommand, setting
values in any case, defaults that do not depend on the current folder, and one set of exit codes."""

from __future__ import annotations

import ast
import importlib.metadata
import io
import json
import logging

import pytest
import yaml
from rich.console import Console

from flashflow_core.config import ConfigError, load_settings
from tests.conftest import ROOT
from workers.cli import build_parser, main
from workers.exit_codes import ExitCode


def test_version(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out == f"flashflow {importlib.metadata.version('flashflow-workers')}\n"


@pytest.mark.parametrize("argv", [
    ["--log-format", "text", "--log-level", "warning", "schedule", "list"],
    ["schedule", "--log-format", "TEXT", "list", "--log-level", "Warning"],
    ["schedule", "list", "--log-level", "WARNING", "--log-format", "text"],
])
def test_global_options_anywhere_and_in_any_case(argv):
    args = build_parser().parse_args(argv)
    assert (args.log_format, args.log_level) == ("text", "WARNING")


def test_global_options_reach_logging(monkeypatch):
    monkeypatch.delenv("FLASHFLOW_LOG_LEVEL", raising=False)
    out = io.StringIO()
    handlers = logging.getLogger().handlers[:]
    try:
        assert main(["schedule", "list", "--json", "--log-level", "error"], console=Console(file=out)) == 0
        assert logging.getLogger().level == logging.ERROR
    finally:
        logging.getLogger().handlers[:] = handlers
    assert json.loads(out.getvalue())


def test_setting_values_match_their_choice_whatever_the_case(monkeypatch):
    monkeypatch.setenv("FLASHFLOW_LOG_LEVEL", "warning")
    monkeypatch.setenv("FLASHFLOW_LOG_FORMAT", "Text")
    monkeypatch.setenv("FLASHFLOW_TRANSCRIBER", "Faster-Whisper")
    settings = load_settings()
    assert (settings.log_level, settings.log_format, settings.transcriber) == ("WARNING", "text", "faster-whisper")
    monkeypatch.setenv("FLASHFLOW_LOG_LEVEL", "loud")
    with pytest.raises(ConfigError, match="FLASHFLOW_LOG_LEVEL"):
        load_settings()


def test_default_paths_do_not_depend_on_the_current_folder(monkeypatch, tmp_path):
    for name in ("FLASHFLOW_HOME", "FLASHFLOW_SCHEDULES_FILE", "FLASHFLOW_HEALTH_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert settings.home == ROOT / ".flashflow"
    assert settings.worker_health_file == ROOT / ".flashflow" / "worker.heartbeat"
    assert settings.schedules_file == ROOT / "schedules.yaml"

    out = io.StringIO()
    assert main(["schedule", "list", "--json"], console=Console(file=out)) == ExitCode.OK
    names = [entry["name"] for entry in json.loads(out.getvalue())]
    expected = yaml.safe_load((ROOT / "schedules.yaml").read_text(encoding="utf-8"))["schedules"]
    assert names == [entry["name"] for entry in expected]


def test_commands_return_named_exit_codes_only():
    """Exit codes come from workers.exit_codes: no command returns a bare number or keeps its own."""
    offenders = []
    for path in sorted((ROOT / "workers").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            returned = node.value if isinstance(node, ast.Return) else None
            values = [returned.body, returned.orelse] if isinstance(returned, ast.IfExp) else [returned]
            if any(isinstance(v, ast.Constant) and type(v.value) is int for v in values):
                offenders.append(f"{path.name}:{node.lineno} returns a number")
            if isinstance(node, ast.Name) and node.id.startswith("EXIT_"):
                offenders.append(f"{path.name}:{node.lineno} uses {node.id}")
    assert offenders == []


def test_config_prints_full_names_and_hides_secrets(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-planted-0123456789")
    monkeypatch.setenv("DATABASE_URL", "postgresql://flashflow:pw-planted-987@db.internal:5432/flashflow")
    out = io.StringIO()
    assert main(["config"], console=Console(file=out)) == ExitCode.OK  # piped: tab-separated, nothing cut
    rows = {fields[0]: fields for fields in (line.split("\t") for line in out.getvalue().splitlines())}
    assert rows["FLASHFLOW_BROKER_MAINTENANCE_INTERVAL_S"][1] == "5.0"
    assert rows["OPENAI_API_KEY"][1] == "****"
    assert rows["DATABASE_URL"][1] == "postgresql://flashflow:****@db.internal:5432/flashflow"
    assert "planted" not in out.getvalue() and "…" not in out.getvalue()

    out = io.StringIO()
    assert main(["config", "--json"], console=Console(file=out)) == ExitCode.OK
    listed = {row["variable"]: row for row in json.loads(out.getvalue())}
    assert set(listed) == set(rows) and all(list(row) == ["variable", "value", "description"] for row in listed.values())
    assert listed["OPENAI_API_KEY"]["value"] == "****" and listed["FLASHFLOW_WHISPER_MODEL"]["value"] == "base"
    assert listed["FLASHFLOW_FETCH_PROXY"]["value"] is None
