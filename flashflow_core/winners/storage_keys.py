"""Storage keys of a reference video's files: built from its id only, never from titles or URLs.

A file that replaces another is written under a key no row names yet — the same name inside a
version folder (`reference/<id>/<version>/transcript.json`) — and the row is switched to it in one
database transaction (`flashflow_core.winners.file_swap`), so the row and the file it names never
disagree. A person's attachment takes a fresh version (`new_version()`); a stage attempt writes
under its fencing token (`attempt_version()`, `a<token>`), and the statement that finishes the
attempt switches the row's assets to it; a version folder nothing points at is removed whole.
"""

from __future__ import annotations

import re
import uuid
from uuid import UUID

_EXT = re.compile(r"^\.[a-z0-9]{1,5}$")
_VERSION = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")


def new_version() -> str:
    """A version no file of any row has yet (for a person's attachment)."""
    return f"attached-{uuid.uuid4().hex[:16]}"


def attempt_version(lease_token: int) -> str:
    """The version a stage attempt writes: named after its lease token (fencing)."""
    return f"a{int(lease_token)}"


def folder(reference_id: UUID, version: str) -> str:
    """The folder of one version of a row's files."""
    return _folder(reference_id, version)


def _folder(reference_id: UUID, version: str | None) -> str:
    folder = f"reference/{UUID(str(reference_id))}"
    if version is None:
        return folder
    if not _VERSION.match(version):
        raise ValueError(f"storage version {version!r} must be 1-40 of a-z 0-9 - (starting with a letter or digit)")
    return f"{folder}/{version}"


def video(reference_id: UUID, suffix: str = ".mp4", version: str | None = None) -> str:
    """Key of the downloaded or attached video; the suffix is kept only when it is a plain extension."""
    ext = suffix.lower() if _EXT.match(suffix.lower()) else ".mp4"
    return f"{_folder(reference_id, version)}/video{ext}"


def audio(reference_id: UUID, version: str | None = None) -> str:
    """Key of the audio track extracted for transcription."""
    return f"{_folder(reference_id, version)}/audio.wav"


def transcript(reference_id: UUID, version: str | None = None) -> str:
    """JSON with the text, language, engine and timestamped segments."""
    return f"{_folder(reference_id, version)}/transcript.json"
