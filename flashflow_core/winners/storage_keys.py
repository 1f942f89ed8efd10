"""Storage keys of a reference video's files: built from its id only, never from titles or URLs."""

from __future__ import annotations

import re
from uuid import UUID

_EXT = re.compile(r"^\.[a-z0-9]{1,5}$")


def video(reference_id: UUID, suffix: str = ".mp4") -> str:
    """Key of the downloaded or attached video; the suffix is kept only when it is a plain extension."""
    ext = suffix.lower() if _EXT.match(suffix.lower()) else ".mp4"
    return f"reference/{UUID(str(reference_id))}/video{ext}"


def audio(reference_id: UUID) -> str:
    return f"reference/{UUID(str(reference_id))}/audio.wav"


def transcript(reference_id: UUID) -> str:
    """JSON with the text, language, engine and timestamped segments."""
    return f"reference/{UUID(str(reference_id))}/transcript.json"
