"""The quality gate between a transcript and the hook package (docs/hooks.md, "Quality gate").

Speech in a language FLASHFLOW_TRANSCRIBE_LANGUAGES does not allow fails the transcribe stage.
Speech whose confidence is below FLASHFLOW_SPEECH_MIN_CONFIDENCE is kept as a transcript but never
becomes a spoken hook or CTA: the extractor is handed the transcript with its words withheld.
A transcript without a confidence (a person attached it) is taken as it is.
"""

from __future__ import annotations

from dataclasses import replace

from flashflow_core.adapters.base import Transcript
from flashflow_core.adapters.languages import language_name

UNCLEAR_TAG = "speech_unclear"


def describe_language(transcript: Transcript) -> str:
    """'German (de, probability 0.97)', as far as it is known."""
    if not transcript.language:
        return "an unknown language"
    known = transcript.language
    if transcript.language_probability is not None:
        known += f", probability {transcript.language_probability:.2f}"
    return f"{language_name(transcript.language)} ({known})"


def language_refusal(transcript: Transcript, allowed: list[str]) -> str | None:
    """Why the transcript's speech is refused by FLASHFLOW_TRANSCRIBE_LANGUAGES; None when it is not."""
    if not allowed or not transcript.has_speech or transcript.language in allowed:
        return None
    return (f"the speech is in {describe_language(transcript)}, and FLASHFLOW_TRANSCRIBE_LANGUAGES "
            f"allows only {', '.join(allowed)}")


def is_clear(transcript: Transcript, min_confidence: float) -> bool:
    """Whether the speech may give a spoken hook or CTA: there is speech, at or above the gate."""
    return transcript.has_speech and (transcript.confidence is None or transcript.confidence >= min_confidence)


def withheld(transcript: Transcript) -> Transcript:
    """The transcript as the extractor sees it when the speech is unclear: no words, no language."""
    return replace(transcript, text="", segments=[], language=None, language_probability=None)


def unclear_failure(transcript: Transcript, min_confidence: float) -> str:
    """The error of a row whose only hook would have come from speech below the gate."""
    return (f"the speech could not be understood (language {describe_language(transcript)}, confidence "
            f"{transcript.confidence:.2f}, below FLASHFLOW_SPEECH_MIN_CONFIDENCE {min_confidence:g}) and the "
            "video has no on-screen text, so there is no hook to extract")
