"""Transcription with openai-whisper (PyTorch), an optional engine: `pip install 'flashflow-workers[openai-whisper]'`.

openai-whisper downloads its weights on first use, which offline machines cannot do, so the model is
a local checkpoint (`.pt`) named by FLASHFLOW_WHISPER_MODEL; `ct2_whisper_to_pt.py` in the developer
tools makes one from the bundled tiny.en. Silence is detected with the Silero VAD that ships with
faster-whisper, so both engines return no text for silent audio.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

from flashflow_core.adapters import media
from flashflow_core.adapters.base import Segment, Transcript
from flashflow_core.adapters.languages import choose_language
from flashflow_core.adapters.speech_confidence import transcript_confidence
from flashflow_core.adapters.transcribe_faster_whisper import cpu_threads_for, language_candidates
from flashflow_core.config import ConfigError, Settings

log = logging.getLogger(__name__)

INSTALL_HINT = "pip install 'flashflow-workers[openai-whisper]' (pins torch==2.13.0, the CPU build)"

_models: dict[tuple[str, str], tuple[Any, threading.Lock]] = {}
_models_lock = threading.Lock()


def _import_whisper() -> tuple[Any, Any]:
    try:
        import torch
        import whisper
    except ImportError as exc:
        raise ConfigError(f"FLASHFLOW_TRANSCRIBER=openai-whisper needs openai-whisper and torch: {INSTALL_HINT}") from exc
    return whisper, torch


def load_checkpoint(path: str, device: str) -> Any:
    """Build a Whisper model from a checkpoint file, with its alignment heads when it carries them.

    Mirrors `whisper.load_model`, which ignores a local file's `alignment_heads`.
    """
    whisper, torch = _import_whisper()
    checkpoint = torch.load(path, map_location=device, weights_only=True)
    model = whisper.model.Whisper(whisper.model.ModelDimensions(**checkpoint["dims"]))
    model.load_state_dict(checkpoint["model_state_dict"])
    if checkpoint.get("alignment_heads") is not None:
        model.set_alignment_heads(checkpoint["alignment_heads"])
    return model.to(device)


def _model(path: str, device: str) -> tuple[Any, threading.Lock]:
    with _models_lock:
        if (path, device) not in _models:
            started = time.monotonic()
            # Decoding installs key/value-cache hooks on the shared modules, so one call at a time.
            _models[(path, device)] = (load_checkpoint(path, device), threading.Lock())
            log.info("whisper model loaded", extra={"model": path, "device": device,
                                                    "load_s": round(time.monotonic() - started, 2)})
        return _models[(path, device)]


class OpenAIWhisperTranscriber:
    """Transcriber on openai-whisper with a local checkpoint."""

    def __init__(self, settings: Settings) -> None:
        _import_whisper()
        if not settings.whisper_model or not Path(settings.whisper_model).is_file():
            raise ConfigError(
                "FLASHFLOW_WHISPER_MODEL must name an openai-whisper checkpoint file (.pt) when "
                f"FLASHFLOW_TRANSCRIBER=openai-whisper (got {settings.whisper_model!r})"
            )
        self.path = str(Path(settings.whisper_model).resolve())
        self.name = f"openai-whisper:{Path(self.path).stem}"
        self.device = settings.whisper_device
        self.beam_size = settings.whisper_beam_size
        self.cpu_threads = cpu_threads_for(settings)
        self.language_candidates = language_candidates(settings)

    def load(self) -> None:
        """Load the checkpoint now."""
        _model(self.path, self.device)

    def transcribe(self, audio_path: Path) -> Transcript:
        """Transcribe an audio file; PermanentError when it cannot be decoded."""
        from faster_whisper.vad import VadOptions, get_speech_timestamps

        whisper, torch = _import_whisper()
        audio = media.decode_audio(audio_path)
        model, lock = _model(self.path, self.device)
        english = "en" if not model.is_multilingual else None
        if audio.size == 0 or not get_speech_timestamps(audio, VadOptions()):
            return Transcript(text="", language=None, segments=[], engine=self.name)
        started = time.monotonic()
        with lock:
            torch.set_num_threads(self.cpu_threads)
            language, probability = english or "", 1.0
            if english is None:
                language, probability = _detect_language(whisper, model, audio, self.language_candidates)
            result = whisper.transcribe(
                model, audio, language=language, beam_size=self.beam_size, best_of=self.beam_size,
                fp16=self.device != "cpu", verbose=None,
            )
        segments = [
            Segment(round(float(s["start"]), 2), round(float(s["end"]), 2), s["text"].strip(),
                    avg_logprob=round(float(s["avg_logprob"]), 4), no_speech_prob=round(float(s["no_speech_prob"]), 4),
                    compression_ratio=round(float(s["compression_ratio"]), 4), temperature=float(s["temperature"]))
            for s in result["segments"] if s["text"].strip()
        ]
        log.info("transcribed", extra={"engine": self.name, "segments": len(segments), "language": language,
                                       "transcribe_s": round(time.monotonic() - started, 2)})
        if not segments:
            return Transcript(text="", language=None, segments=[], engine=self.name)
        return Transcript(text=" ".join(s.text for s in segments), language=language, segments=segments,
                          engine=self.name, language_probability=probability,
                          confidence=transcript_confidence(segments))


def _detect_language(whisper: Any, model: Any, audio: Any, candidates: list[str]) -> tuple[str, float]:
    """(code, probability) among the candidates, from the first 30 s as `whisper.transcribe` would hear them."""
    mel = whisper.log_mel_spectrogram(whisper.pad_or_trim(audio), model.dims.n_mels).to(model.device)
    _, probs = model.detect_language(mel)
    return choose_language({code: float(p) for code, p in probs.items()}, candidates)
