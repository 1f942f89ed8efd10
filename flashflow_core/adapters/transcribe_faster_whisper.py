"""Transcription with faster-whisper (CTranslate2), the default engine.

The model is what FLASHFLOW_WHISPER_MODEL names (`whisper_models.py`: multilingual base by
default, bundled and verified); it is only ever loaded from local files, never downloaded. Each
process loads a model once. A worker runs each of its FLASHFLOW_WORKER_THREADS stage jobs in a
stage child process of its own that does one job at a time, so the model gets one CTranslate2
replica (`num_workers=1`): a replica per worker thread in every child would only add idle thread
pools and buffers. The cores are shared out between those children (`cpu_threads_for`) so they do
not oversubscribe them. Threads calling one process's model at once (tests) take turns.

The language is detected here rather than inside faster-whisper's transcribe: Whisper's
probabilities are averaged over up to FLASHFLOW_LANGUAGE_DETECTION_WINDOWS 30 s windows of speech
(after voice-activity filtering), the most probable of FLASHFLOW_LANGUAGE_CANDIDATES is chosen
(`languages.choose_language`), and the speech is decoded in that language.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from flashflow_core.adapters import media
from flashflow_core.adapters.base import Segment, Transcript
from flashflow_core.adapters.languages import choose_language
from flashflow_core.adapters.speech_confidence import transcript_confidence
from flashflow_core.adapters.whisper_models import ModelSource, resolve_model
from flashflow_core.config import ConfigError, Settings

log = logging.getLogger(__name__)

SAMPLE_RATE = 16_000
WINDOW_SAMPLES = 30 * SAMPLE_RATE  # Whisper hears 30 s at a time
MIN_EXTRA_WINDOW_SAMPLES = 5 * SAMPLE_RATE  # a shorter tail of speech adds too little to weigh

_models: dict[tuple[str, str, str, int], Any] = {}
_models_lock = threading.Lock()


def cpu_threads_for(settings: Settings) -> int:
    """Threads for one model: the setting, else the cores shared out between the worker threads
    (each runs its stages in a child process with a model of its own)."""
    return settings.whisper_cpu_threads or max(1, (os.cpu_count() or 1) // settings.worker_threads)


def language_candidates(settings: Settings) -> list[str]:
    """The languages detection chooses among ([]: any). Those FLASHFLOW_TRANSCRIBE_LANGUAGES allows are
    always among them: otherwise their speech would be named as a neighbour's and refused."""
    candidates = settings.language_candidates
    return [*candidates, *settings.transcribe_languages] if candidates else []


def load_model(source: ModelSource, device: str, compute_type: str, cpu_threads: int) -> Any:
    """The process's WhisperModel for these options, loaded from local files on first use, with one
    replica (the process transcribes one file at a time).

    ConfigError, in one line, when it cannot be loaded (a Hub name not in the local cache, a
    broken folder): nothing is downloaded."""
    key = (source.source, device, compute_type, cpu_threads)
    with _models_lock:
        if key not in _models:
            from faster_whisper import WhisperModel

            started = time.monotonic()
            try:
                _models[key] = WhisperModel(
                    source.source, device=device, compute_type=compute_type, cpu_threads=cpu_threads,
                    num_workers=1, local_files_only=True,
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
        self.beam_size = settings.whisper_beam_size
        self.language_candidates = language_candidates(settings)
        self.detection_windows = settings.language_detection_windows

    def model(self) -> Any:
        """The loaded model (ConfigError when it cannot be loaded); the worker calls it at start."""
        return load_model(self.model_source, self.device, self.compute_type, self.cpu_threads)

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
        found = self._detect(model, audio)
        if found is None:  # the voice-activity filter found no speech
            return Transcript(text="", language=None, segments=[], engine=self.name)
        language, probability = found
        pieces, info = model.transcribe(audio, language=language, beam_size=self.beam_size, vad_filter=True)
        segments = [
            Segment(round(s.start, 2), round(s.end, 2), s.text.strip(), avg_logprob=round(s.avg_logprob, 4),
                    no_speech_prob=round(s.no_speech_prob, 4), compression_ratio=round(s.compression_ratio, 4),
                    temperature=s.temperature)
            for s in pieces if s.text.strip()
        ]
        log.info("transcribed", extra={
            "engine": self.name, "audio_s": round(info.duration, 2), "segments": len(segments),
            "language": language, "language_probability": probability,
            "transcribe_s": round(time.monotonic() - started, 2),
        })
        if not segments:
            return Transcript(text="", language=None, segments=[], engine=self.name)
        return Transcript(
            text=" ".join(s.text for s in segments), language=language, segments=segments, engine=self.name,
            language_probability=probability, confidence=transcript_confidence(segments),
        )

    def detect_language(self, audio_path: Path) -> tuple[str, float] | None:
        """(ISO 639-1 code, probability) of the speech, for engines that report none; None without speech."""
        return self._detect(self.model(), media.decode_audio(audio_path))

    def _detect(self, model: Any, audio: Any) -> tuple[str, float] | None:
        """The language among the candidates, from Whisper's probabilities averaged over the first
        `detection_windows` 30 s windows of speech; None when there is no speech."""
        from faster_whisper.vad import VadOptions, collect_chunks, get_speech_timestamps

        chunks = get_speech_timestamps(audio, VadOptions())
        if not chunks:
            return None
        if not model.model.is_multilingual:
            return "en", 1.0
        speech = np.concatenate(collect_chunks(audio, chunks)[0])
        totals: dict[str, float] = {}
        weight = 0
        for start in range(0, min(speech.size, self.detection_windows * WINDOW_SAMPLES), WINDOW_SAMPLES):
            window = speech[start:start + WINDOW_SAMPLES]
            if start and window.size < MIN_EXTRA_WINDOW_SAMPLES:
                break
            _, _, probabilities = model.detect_language(window)
            for code, p in probabilities:
                totals[code] = totals.get(code, 0.0) + p * window.size
            weight += window.size
        return choose_language({code: p / weight for code, p in totals.items()}, self.language_candidates)
