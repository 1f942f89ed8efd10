"""Transcription through OpenAI's hosted API (`POST /v1/audio/transcriptions`).

The model is configuration (FLASHFLOW_OPENAI_TRANSCRIBE_MODEL): the SDK marks whisper-1 and the
gpt-4o-*-transcribe models deprecated, with shutdown announced for 2027-02-26. Only whisper-*
models return segments (`verbose_json`); the others accept `json` and give the text alone.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import openai

from flashflow_core.adapters.base import AdapterError, PermanentError, Segment, Transcript, TransientError
from flashflow_core.config import ConfigError, Settings

log = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 25 * 1024 * 1024  # the endpoint's documented file limit
# 408 and 409 are retried by the SDK itself: the request may well succeed later.
_TRANSIENT_STATUS = {408, 409}


def response_format_for(model: str) -> str:
    """`verbose_json` (with segments) for whisper models, `json` for the gpt-*-transcribe family."""
    return "verbose_json" if model.startswith("whisper") else "json"


def classify(exc: openai.OpenAIError) -> AdapterError:
    """Map an OpenAI SDK error to TransientError (try later) or PermanentError (this request is refused)."""
    if isinstance(exc, openai.RateLimitError):
        return TransientError(f"OpenAI rate limit reached: {_message(exc)}")
    if isinstance(exc, openai.APITimeoutError):
        return TransientError("OpenAI did not answer in time")
    if isinstance(exc, openai.APIConnectionError):
        return TransientError(f"could not reach OpenAI: {exc.__cause__ or exc}")
    if isinstance(exc, openai.APIStatusError):
        if exc.status_code >= 500 or exc.status_code in _TRANSIENT_STATUS:
            return TransientError(f"OpenAI failed ({exc.status_code}): {_message(exc)}")
        return PermanentError(f"OpenAI refused the transcription ({exc.status_code}): {_message(exc)}")
    return TransientError(f"unexpected answer from OpenAI: {exc}")


def _message(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        detail = body.get("error", body)
        if isinstance(detail, dict) and detail.get("message"):
            return str(detail["message"])
    return exc.message


class OpenAITranscriber:
    """Transcriber on OpenAI's audio transcription endpoint."""

    def __init__(self, settings: Settings) -> None:
        if not settings.openai_api_key:
            raise ConfigError("OPENAI_API_KEY: not set, and FLASHFLOW_TRANSCRIBER=openai needs it")
        self.model = settings.openai_transcribe_model
        self.name = f"openai:{self.model}"
        self.response_format = response_format_for(self.model)
        self.client = openai.OpenAI(
            api_key=settings.openai_api_key, base_url=settings.openai_base_url,
            timeout=settings.openai_timeout_s, max_retries=settings.openai_max_retries,
        )

    def load(self) -> None:
        """Nothing to load: the model runs at OpenAI."""

    def transcribe(self, audio_path: Path) -> Transcript:
        """Upload the audio and return the transcript; errors classified as transient or permanent."""
        try:
            size = audio_path.stat().st_size
        except OSError as exc:
            raise PermanentError(f"the audio file cannot be read ({exc.strerror}: {audio_path})") from exc
        if size > MAX_UPLOAD_BYTES:
            raise PermanentError(f"the audio is {size / 2**20:.1f} MB; OpenAI accepts at most 25 MB")
        started = time.monotonic()
        try:
            with audio_path.open("rb") as audio:
                result = self.client.audio.transcriptions.create(
                    model=self.model, file=(audio_path.name, audio, "audio/wav"),
                    response_format=self.response_format,  # type: ignore[arg-type]
                )
        except openai.OpenAIError as exc:
            raise classify(exc) from exc
        text = (getattr(result, "text", "") or "").strip()
        segments = [Segment(round(s.start, 2), round(s.end, 2), s.text.strip())
                    for s in (getattr(result, "segments", None) or []) if s.text.strip()]
        language = getattr(result, "language", None)  # as the API names it: whisper-1 says "english"
        log.info("transcribed", extra={"engine": self.name, "segments": len(segments),
                                       "transcribe_s": round(time.monotonic() - started, 2)})
        return Transcript(text=text, language=language, segments=segments, engine=self.name)
