"""Transcription through OpenAI's hosted API (`POST /v1/audio/transcriptions`).

The model is configuration (FLASHFLOW_OPENAI_TRANSCRIBE_MODEL): the SDK marks whisper-1 and the
gpt-4o-*-transcribe models deprecated, with shutdown announced for 2027-02-26. Only whisper-*
models return segments (`verbose_json`, with Whisper's per-segment figures and the language's
name); the others accept `json`: gpt-4o-*-transcribe give token log-probabilities when asked
(`include=logprobs`), gpt-transcribe the detected languages' codes. Where the answer names no
language, it is detected locally with the faster-whisper model (FLASHFLOW_WHISPER_MODEL).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import openai

from flashflow_core.adapters.base import AdapterError, PermanentError, Segment, Transcript, TransientError
from flashflow_core.adapters.languages import CODES_BY_NAME
from flashflow_core.adapters.speech_confidence import confidence_from_logprobs, transcript_confidence
from flashflow_core.config import ConfigError, Settings

log = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 25 * 1024 * 1024  # the endpoint's documented file limit
# 408 and 409 are retried by the SDK itself: the request may well succeed later.
_TRANSIENT_STATUS = {408, 409}
# Models that return token log-probabilities with `include=["logprobs"]` (json format only).
_LOGPROB_MODELS = ("gpt-4o-transcribe", "gpt-4o-mini-transcribe")


def response_format_for(model: str) -> str:
    """`verbose_json` (with segments) for whisper models, `json` for the gpt-*-transcribe family."""
    return "verbose_json" if model.startswith("whisper") else "json"


def openai_error(exc: openai.OpenAIError) -> AdapterError:
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
        self.settings = settings
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
        extra = {"include": ["logprobs"]} if self.model.startswith(_LOGPROB_MODELS) else {}
        try:
            with audio_path.open("rb") as audio:
                result = self.client.audio.transcriptions.create(
                    model=self.model, file=(audio_path.name, audio, "audio/wav"),
                    response_format=self.response_format,  # type: ignore[arg-type]
                    **extra,  # type: ignore[arg-type]
                )
        except openai.OpenAIError as exc:
            raise openai_error(exc) from exc
        text = (getattr(result, "text", "") or "").strip()
        segments = [Segment(round(s.start, 2), round(s.end, 2), s.text.strip(), avg_logprob=s.avg_logprob,
                            no_speech_prob=s.no_speech_prob, compression_ratio=s.compression_ratio,
                            temperature=s.temperature)
                    for s in (getattr(result, "segments", None) or []) if s.text.strip()]
        log.info("transcribed", extra={"engine": self.name, "segments": len(segments),
                                       "transcribe_s": round(time.monotonic() - started, 2)})
        if not text:
            return Transcript(text="", language=None, segments=[], engine=self.name)
        language, probability = self._language(result, audio_path)
        confidence = transcript_confidence(segments) if segments else confidence_from_logprobs(
            lp.logprob for lp in (getattr(result, "logprobs", None) or []) if lp.logprob is not None)
        return Transcript(text=text, language=language, segments=segments, engine=self.name,
                          language_probability=probability, confidence=confidence)

    def _language(self, result: object, audio_path: Path) -> tuple[str | None, float | None]:
        """The language the answer names (gpt-transcribe: codes; whisper-1: a name), else detected locally."""
        codes = [entry.code for entry in (getattr(result, "languages", None) or []) if entry.code]
        if codes:
            return codes[0].lower(), None
        code = CODES_BY_NAME.get((getattr(result, "language", None) or "").lower())  # whisper-1: "english"
        if code:
            return code, None
        from flashflow_core.adapters.transcribe_faster_whisper import FasterWhisperTranscriber

        return FasterWhisperTranscriber(self.settings).detect_language(audio_path) or (None, None)
