"""Transcription with faster-whisper (CTranslate2), the default engine.

The model is what FLASHFLOW_WHISPER_MODEL names (`whisper_models.py`: multilingual base by
default, bundled and verified); it is only ever loaded from local files, never downloaded. Each
process loads a model once and shares it between its worker threads; CPU threads are split
between those workers so they do not oversubscribe cores.
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
from flashflow_core.adapters.speech_confidence import transcript_confidence
from flashflow_core.adapters.whisper_models import ModelSource, resolve_model
from flashflow_core.config import ConfigError, Settings

log = logging.getLogger(__name__)

_models: dict[tuple[str, str, str, int, int], Any] = {}
_models_lock = threading.Lock()


def cpu_threads_for(settings: Settings) -> int:
    """Threads for one model: the setting, else the cores shared out between the worker threads."""
    return settings.whisper_cpu_threads or max(1, (os.cpu_count() or 1) // settings.worker_threads)


def load_model(source: ModelSource, device: str, compute_type: str, cpu_threads: int, workers: int) -> Any:
    """The process's WhisperModel for these options, loaded from local files on first use.

    ConfigError, in one line, when it cannot be loaded (a Hub name not in the local cache, a
    broken folder): nothing is downloaded."""
    key = (source.source, device, compute_type, cpu_threads, workers)
    with _models_lock:
        if key not in _models:
            from faster_whisper import WhisperModel

            started = time.monotonic()
            try:
                _models[key] = WhisperModel(
                    source.source, device=device, compute_type=compute_type, cpu_threads=cpu_threads,
                    num_workers=workers, local_files_only=True,
                )
            except Exception as exc:  # noqa: BLE001 - huggingface_hub, CTranslate2 and OSError all end here
                if not source.local:
                    raise ConfigError(
                        f"FLASHFLOW_WHISPER_MODEL={source.label}: not in the local Hugging Face cache, and models "
                        "are never downloaded at run time (use base, tiny.en or a CTranslate2 folder)"
                    ) from exc
                first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                raise ConfigError(f"FLASHFLOW_WHISPER_MODEL={source.label}: {source.source} cannot be loaded "
                                  f"({type(exc).__name__}: {first_line})") from exc
            log.info("whisper model loaded", extra={
                "model": source.source, "device": device, "compute_type": compute_type, "cpu_threads": cpu_threads,
                "load_s": round(time.monotonic() - started, 2),
            })
        return _models[key]


class FasterWhisperTranscriber:
    """Transcriber on faster-whisper, with voice-activity filtering so silence yields no text."""

    def __init__(self, settings: Settings) -> None:
        self.model_source = resolve_model(settings)
        self.name = f"faster-whisper:{self.model_source.label}"
        self.device = settings.whisper_device
        self.compute_type = settings.whisper_compute_type
        self.cpu_threads = cpu_threads_for(settings)
        # One CTranslate2 replica per worker thread lets their calls run in parallel.
        self.workers = settings.worker_threads
        self.beam_size = settings.whisper_beam_size

    def model(self) -> Any:
        """The loaded model (ConfigError when it cannot be loaded); the worker calls it at start."""
        return load_model(self.model_source, self.device, self.compute_type, self.cpu_threads, self.workers)

    def load(self) -> None:
        """Load the model now (ConfigError when it cannot be loaded)."""
        self.model()

    def transcribe(self, audio_path: Path) -> Transcript:
        """Transcribe an audio file; PermanentError when it cannot be decoded."""
        audio = media.decode_audio(audio_path)
        model = self.model()
        if audio.size == 0:
            return Transcript(text="", language=None, segments=[], engine=self.name)
        started = time.monotonic()
        pieces, info = model.transcribe(audio, beam_size=self.beam_size, vad_filter=True)
        segments = [
            Segment(round(s.start, 2), round(s.end, 2), s.text.strip(), avg_logprob=round(s.avg_logprob, 4),
                    no_speech_prob=round(s.no_speech_prob, 4), compression_ratio=round(s.compression_ratio, 4),
                    temperature=s.temperature)
            for s in pieces if s.text.strip()
        ]
        log.info("transcribed", extra={
            "engine": self.name, "audio_s": round(info.duration, 2), "segments": len(segments),
            "language": info.language, "transcribe_s": round(time.monotonic() - started, 2),
        })
        if not segments:
            return Transcript(text="", language=None, segments=[], engine=self.name)
        return Transcript(
            text=" ".join(s.text for s in segments), language=info.language, segments=segments, engine=self.name,
            language_probability=round(info.language_probability, 4), confidence=transcript_confidence(segments),
        )

    def detect_language(self, audio_path: Path) -> tuple[str, float]:
        """(ISO 639-1 code, probability) of the speech in the first 30 s, for engines that report none."""
        model = self.model()
        if not model.model.is_multilingual:
            return "en", 1.0
        language, probability, _ = model.detect_language(media.decode_audio(audio_path), vad_filter=True)
        return language, round(probability, 4)
