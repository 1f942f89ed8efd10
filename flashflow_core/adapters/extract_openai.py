"""Hook-package extraction by an OpenAI (or OpenAI-compatible) chat model with structured outputs.

The SDK retries 429, 408/409 and 5xx itself (`openai_max_retries`); what is left when it
gives up is classified here into TransientError or PermanentError. An answer that is not
valid JSON for HookPackage raises pydantic's ValidationError unchanged.
"""

from __future__ import annotations

import base64
import logging
from pathlib import Path
from typing import Any

import openai

from flashflow_core.adapters.base import (
    ExtractionInput,
    HookFamily,
    HookPackage,
    PermanentError,
    TransientError,
)
from flashflow_core.adapters.languages import language_name
from flashflow_core.config import ConfigError, Settings

log = logging.getLogger(__name__)

DEFAULT_MAX_KEY_FRAMES = 3
MAX_KEY_FRAME_BYTES = 2 * 1024 * 1024
MAX_TRANSCRIPT_CHARS = 6000
JPEG_MAGIC = b"\xff\xd8\xff"

FAMILY_DEFINITIONS: dict[HookFamily, str] = {
    HookFamily.PATTERN_INTERRUPT: "breaks the scroll with a command or jolt (\"stop scrolling\", \"wait\").",
    HookFamily.RELATABLE_PAIN: "names a problem the viewer has (\"if you struggle with...\").",
    HookFamily.CURIOSITY_GAP: "teases something withheld (\"nobody talks about\", \"here's why\").",
    HookFamily.CONTRARIAN: "goes against common advice (\"unpopular opinion\", \"stop doing X\").",
    HookFamily.SOCIAL_PROOF: "leans on what others do or say (\"everyone is buying\", \"sold out\").",
    HookFamily.BEFORE_AFTER: "shows or promises a transformation (before vs after).",
    HookFamily.POV_STORYTIME: "drops the viewer into a scene or story (\"POV:\", \"storytime\").",
    HookFamily.QUESTION: "opens with a question to the viewer.",
    HookFamily.BOLD_CLAIM: "makes a strong promise or superlative (\"the best\", \"changed my life\").",
    HookFamily.HOW_TO: "promises to teach how to do something.",
    HookFamily.LISTICLE: "promises a numbered list (\"3 hacks\", \"5 things\").",
    HookFamily.OFFER_URGENCY: "leads with a deal or deadline (\"50% off\", \"today only\").",
    HookFamily.UNBOXING_REACTION: "opens on unboxing or a first reaction to the product.",
}

SYSTEM_PROMPT = """You analyse the opening of short-form product videos (TikTok, Reels, Shorts) \
and describe their hook package.

Rules:
- spoken_hook: the opening line exactly as spoken, copied word for word from the transcript. \
If the transcript says there is no speech, spoken_hook is the empty string. Never invent speech.
- on_screen_hook: the text shown on screen in the first seconds, as read; null when there is none.
- visual_hook: one sentence on what the viewer sees in the first two seconds; null if unknown.
- cta: the call to action as said or shown (e.g. "Tap the orange cart"); empty string when there is none.
- hook_family: the single best family from the taxonomy below.
- structure_tags: a few short snake_case tags for the video's structure (e.g. demo, testimonial, \
problem_solution, fast_cut_open).
- quality_score: 0-100, how strongly the opening grabs attention and leads to the sale.
- Language: answer in the video's language (given below). Copy spoken_hook, on_screen_hook and cta \
exactly as said or shown, never translated; write visual_hook in the video's language; structure_tags \
stay English snake_case. When the spoken language is unknown, use the language of the on-screen text.

Taxonomy:
{taxonomy}"""


def _taxonomy() -> str:
    return "\n".join(f"- {family.value}: {text}" for family, text in FAMILY_DEFINITIONS.items())


def _transcript_text(source: ExtractionInput) -> str:
    transcript = source.transcript
    if source.speech_unclear:
        return "(there is speech, but it could not be understood: it gives no spoken hook and no CTA)"
    if not transcript.has_speech:
        return "(no speech)"
    if transcript.segments:
        text = "\n".join(f"[{s.start:.1f}-{s.end:.1f}s] {s.text.strip()}" for s in transcript.segments)
    else:
        text = transcript.text.strip()
    if len(text) > MAX_TRANSCRIPT_CHARS:
        text = text[:MAX_TRANSCRIPT_CHARS] + "\n(... transcript truncated)"
    return text


def _screen_text(source: ExtractionInput) -> str:
    if not source.screen_text:
        return "(none)"
    return "\n".join(f"[{line.t:.1f}s] {line.text.strip()}" for line in sorted(source.screen_text, key=lambda s: s.t))


def _visual_text(source: ExtractionInput) -> str:
    visual = source.visual
    if visual is None:
        return "(not measured)"
    return (
        f"{visual.description}\n"
        f"cuts in first 2 s: {visual.cuts_first_2s}; motion in first 2 s: {visual.motion_first_2s:.2f} (0-1); "
        f"text overlay in first 2 s: {'yes' if visual.text_overlay_first_2s else 'no'}; "
        f"mean brightness: {visual.mean_brightness:.2f} (0-1)"
    )


def _language_text(source: ExtractionInput) -> str:
    transcript = source.transcript
    if not transcript.has_speech or not transcript.language:
        return "unknown (no speech the transcriber could trust)"
    sure = (f", detected with probability {transcript.language_probability:.2f}"
            if transcript.language_probability is not None else "")
    return f"{language_name(transcript.language)} ({transcript.language}{sure}): answer in {language_name(transcript.language)}"


def build_user_text(source: ExtractionInput) -> str:
    """The text part of the request: everything the earlier stages found about the video."""
    return (
        f"Video: {source.url or '(unknown)'}\n"
        f"Category: {source.category or '(unknown)'}\n"
        f"Spoken language: {_language_text(source)}\n\n"
        f"Transcript with timestamps:\n{_transcript_text(source)}\n\n"
        f"On-screen text with times:\n{_screen_text(source)}\n\n"
        f"Visual summary of the opening:\n{_visual_text(source)}"
    )


def _pick_frames(frames: list[Path], limit: int) -> list[Path]:
    """At most `limit` frames, spread evenly over the ones given."""
    if len(frames) <= limit:
        return list(frames)
    if limit == 1:
        return [frames[0]]
    return [frames[round(i * (len(frames) - 1) / (limit - 1))] for i in range(limit)]


def _image_part(path: Path) -> dict[str, Any] | None:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise PermanentError(f"key frame {path} cannot be read: {exc.strerror or exc}") from exc
    if not data.startswith(JPEG_MAGIC):
        raise PermanentError(f"key frame {path} is not a JPEG image")
    if len(data) > MAX_KEY_FRAME_BYTES:
        log.warning("key frame too large, not sent", extra={"path": str(path), "bytes": len(data)})
        return None
    url = "data:image/jpeg;base64," + base64.b64encode(data).decode("ascii")
    return {"type": "image_url", "image_url": {"url": url, "detail": "low"}}


def _api_message(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return body["message"]
    return exc.response.reason_phrase or "no details"


class OpenAIExtractor:
    """Extracts a HookPackage with `chat.completions.parse` and HookPackage as the strict JSON schema."""

    name = "openai"

    def __init__(self, settings: Settings, *, max_key_frames: int = DEFAULT_MAX_KEY_FRAMES) -> None:
        if not settings.openai_api_key:
            raise ConfigError(
                "OPENAI_API_KEY: required by the OpenAI extractor "
                "(any value for an OpenAI-compatible server that needs none)"
            )
        if max_key_frames < 0:
            raise ValueError(f"max_key_frames must be 0 or more, got {max_key_frames}")
        self.model = settings.openai_extract_model
        self.max_key_frames = max_key_frames
        self.max_retries = settings.openai_max_retries
        self.timeout_s = settings.openai_timeout_s
        self._client = openai.OpenAI(
            api_key=settings.openai_api_key,
            base_url=settings.openai_base_url,
            timeout=settings.openai_timeout_s,
            max_retries=settings.openai_max_retries,
        )

    def close(self) -> None:
        """Close the HTTP connections."""
        self._client.close()

    def _messages(self, source: ExtractionInput) -> list[dict[str, Any]]:
        """The chat messages sent for `source`; key frames become image parts of the user message."""
        content: list[dict[str, Any]] = [{"type": "text", "text": build_user_text(source)}]
        frames = _pick_frames(source.key_frames, self.max_key_frames)
        images = [part for part in map(_image_part, frames) if part is not None]
        if images:
            content.append({"type": "text", "text": f"Key frames of the opening ({len(images)}), in order:"})
            content.extend(images)
        return [
            {"role": "system", "content": SYSTEM_PROMPT.format(taxonomy=_taxonomy())},
            {"role": "user", "content": content},
        ]

    def extract(self, source: ExtractionInput) -> HookPackage:
        """Ask the model for the hook package of `source`; raise TransientError or PermanentError."""
        messages = self._messages(source)
        try:
            completion = self._client.chat.completions.parse(
                model=self.model,
                messages=messages,  # type: ignore[arg-type]
                response_format=HookPackage,
            )
        except openai.LengthFinishReasonError as exc:
            raise PermanentError(
                "the model's answer was cut off (token limit reached) before the hook package was complete"
            ) from exc
        except openai.ContentFilterFinishReasonError as exc:
            raise PermanentError("the model's answer was blocked by its content filter") from exc
        except openai.APITimeoutError as exc:
            raise TransientError(f"the OpenAI API did not answer within {self.timeout_s:g} s") from exc
        except openai.APIConnectionError as exc:
            raise TransientError(f"could not reach the OpenAI API at {self._client.base_url}") from exc
        except openai.APIStatusError as exc:
            raise self._classify_status(exc) from exc

        message = completion.choices[0].message
        if message.refusal:
            raise PermanentError(f"the model refused: {message.refusal}")
        package = message.parsed
        if package is None:
            raise PermanentError("the model returned an empty answer")
        if not source.transcript.has_speech and package.spoken_hook:
            log.info("model gave a spoken hook for a video without speech; cleared", extra={"url": source.url})
            package = package.model_copy(update={"spoken_hook": ""})
        return package

    def _classify_status(self, exc: openai.APIStatusError) -> TransientError | PermanentError:
        status = exc.status_code
        detail = _api_message(exc)
        after = f"after {self.max_retries} retries" if self.max_retries else "(retries disabled)"
        if isinstance(exc, openai.RateLimitError):
            return TransientError(f"the OpenAI API is still rate limiting us {after}: {detail}")
        if isinstance(exc, openai.InternalServerError):
            return TransientError(f"the OpenAI API failed with HTTP {status} {after}: {detail}")
        if status in (408, 409):
            return TransientError(f"the OpenAI API answered HTTP {status} {after}: {detail}")
        if isinstance(exc, (openai.AuthenticationError, openai.PermissionDeniedError)):
            return PermanentError(f"the OpenAI API refused our credentials (HTTP {status}): {detail}")
        if isinstance(exc, openai.NotFoundError):
            return PermanentError(
                f"the OpenAI API answered HTTP 404 for model {self.model!r} at {self._client.base_url} "
                f"(check FLASHFLOW_OPENAI_EXTRACT_MODEL and OPENAI_BASE_URL): {detail}"
            )
        return PermanentError(f"the OpenAI API rejected the request (HTTP {status}): {detail}")
