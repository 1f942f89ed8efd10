"""`flashflow doctor`'s checks against the real servers, tools and models of this machine."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import av
import imageio_ffmpeg
import psycopg
import pytest
import redis
from yt_dlp.version import __version__ as ytdlp_version

from flashflow_core.db import migrate
from flashflow_core.ops.doctor import Check, healthy, rapidocr_model_files, run_checks
from flashflow_core.embedded.common import free_port
from flashflow_core.embedded.services import ensure_services
from tests.embedded_home import (
    embedded_settings,
    home_fixture,  # noqa: F401 - the `home` fixture
)


def _by_name(checks: list[Check]) -> dict[str, Check]:
    return {check.name: check for check in checks}


@pytest.mark.embedded
def test_healthy_machine_reports_every_part_with_its_version(home: Path) -> None:
    settings = ensure_services(embedded_settings(home))
    migrate.migrate(settings.database_url)

    checks = _by_name(run_checks(settings))

    with psycopg.connect(settings.database_url) as conn:
        assert checks["postgres"].version == conn.execute("SHOW server_version").fetchone()[0]
    with redis.Redis.from_url(settings.redis_url) as client:
        assert checks["redis"].version == client.info("server")["valkey_version"]
    assert checks["migrations"].ok and checks["migrations"].detail.startswith("none of")
    assert checks["ffmpeg (imageio-ffmpeg)"].detail == imageio_ffmpeg.get_ffmpeg_exe()
    assert checks["ffmpeg (imageio-ffmpeg)"].version
    assert checks["PyAV"].version == av.__version__
    assert checks["faster-whisper"].version == importlib.metadata.version("faster-whisper")
    assert checks["whisper model"].ok and checks["whisper model"].version == "base"
    assert (Path(checks["whisper model"].detail) / "model.bin").is_file()
    assert checks["rapidocr"].version == importlib.metadata.version("rapidocr")
    assert checks["yt-dlp"].version == ytdlp_version
    assert all(check.ok for check in checks.values() if check.required), checks
    assert healthy(list(checks.values()))


@pytest.mark.embedded
def test_pending_migrations_are_counted_and_make_the_report_unhealthy(home: Path) -> None:
    settings = ensure_services(embedded_settings(home))

    checks = run_checks(settings)
    row = _by_name(checks)["migrations"]

    known = len(migrate.discover())
    assert not row.ok and row.detail.startswith(f"{known} of {known} pending")
    assert "flashflow migrate" in row.detail
    assert not healthy(checks)


def test_unreachable_servers_are_missing(tmp_path: Path) -> None:
    closed = free_port()
    settings = embedded_settings(tmp_path).model_copy(
        update={"database_url": f"postgresql://postgres@127.0.0.1:{closed}/x", "redis_url": f"redis://127.0.0.1:{closed}/0"}
    )
    checks = _by_name(run_checks(settings))

    assert not checks["postgres"].ok
    assert checks["postgres"].detail == f"cannot reach Postgres at 127.0.0.1:{closed} (connection refused)"
    assert not checks["redis"].ok
    assert checks["redis"].detail == f"cannot reach Redis at 127.0.0.1:{closed} (connection refused)"
    assert "migrations" not in checks


def test_unset_urls_without_servers_are_missing(tmp_path: Path) -> None:
    checks = _by_name(run_checks(embedded_settings(tmp_path)))

    assert "DATABASE_URL unset" in checks["postgres"].detail and not checks["postgres"].ok
    assert "REDIS_URL unset" in checks["redis"].detail and not checks["redis"].ok


def test_whisper_model_folder_without_tokenizer_is_missing(tmp_path: Path) -> None:
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "model.bin").write_bytes(b"\0")

    row = _by_name(run_checks(embedded_settings(tmp_path, whisper_model=str(folder))))["whisper model"]

    assert not row.ok and row.required
    assert row.detail == f"FLASHFLOW_WHISPER_MODEL: {folder} is not a CTranslate2 Whisper folder (no tokenizer.json)"


def test_whisper_model_name_not_in_the_local_cache_is_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))  # an empty Hugging Face cache

    row = _by_name(run_checks(embedded_settings(tmp_path, whisper_model="small")))["whisper model"]

    assert not row.ok and row.required
    assert row.detail.startswith("FLASHFLOW_WHISPER_MODEL=small: not in the local Hugging Face cache")
    assert "\n" not in row.detail


def test_whisper_model_setting_that_is_no_model_folder_is_missing(tmp_path: Path) -> None:
    row = _by_name(run_checks(embedded_settings(tmp_path, whisper_model=str(tmp_path))))["whisper model"]

    assert not row.ok
    assert "model.bin" in row.detail


def test_whisper_is_optional_when_another_transcriber_is_chosen(tmp_path: Path) -> None:
    checks = _by_name(run_checks(embedded_settings(tmp_path, transcriber="openai", openai_api_key="sk-test")))

    assert not checks["whisper model"].required and not checks["faster-whisper"].required
    assert checks["openai"].ok and checks["openai"].required
    assert "sk-test" not in checks["openai"].detail


def test_openai_extractor_without_a_key_is_missing(tmp_path: Path) -> None:
    checks = run_checks(embedded_settings(tmp_path, extractor="openai"))
    row = _by_name(checks)["openai"]

    assert not row.ok and row.required and "OPENAI_API_KEY" in row.detail


def test_without_a_key_the_offline_extractor_is_reported(tmp_path: Path) -> None:
    row = _by_name(run_checks(embedded_settings(tmp_path)))["openai"]

    assert row.ok and not row.required and "offline extractor" in row.detail


def test_rapidocr_model_files_are_its_default_det_cls_rec_models() -> None:
    files = rapidocr_model_files()

    assert len(files) == 3 and all(f.suffix == ".onnx" for f in files)
    assert [("det" in f.name, "cls" in f.name, "rec" in f.name) for f in files] == [
        (True, False, False),
        (False, True, False),
        (False, False, True),
    ]


def test_healthy_ignores_optional_rows() -> None:
    assert healthy([Check("a", True), Check("b", False, required=False)])
    assert not healthy([Check("a", True), Check("c", False)])
