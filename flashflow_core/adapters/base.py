"""The interfaces every adapter implements, the values they exchange, and their errors.

Errors are classified once, inside the adapter: the domain sees PermanentError,
TransientError or SiteThrottled, never a tool's own exception tree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from pydantic import BaseModel, Field


# ---- errors -------------------------------------------------------------------------------

class AdapterError(Exception):
    """Base of adapter errors; `str(exc)` is a plain-words cause a person can act on."""


class PermanentError(AdapterError):
    """Retrying will not help: the input itself is the problem (404, not a video, too long...)."""


class TransientError(AdapterError):
    """May work later: timeouts, connection resets, 5xx."""


class SiteThrottled(TransientError):
    """The site is limiting us (429, "not a bot", IP blocked): pause the whole site, not the item."""

    def __init__(self, message: str, site: str, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.site = site
        self.retry_after_s = retry_after_s

    def __reduce__(self) -> tuple[type, tuple[str, str, float | None]]:
        # Pickled by the stage child that raised it (flashflow_core.supervised) for its worker.
        return type(self), (str(self), self.site, self.retry_after_s)


# ---- fetch ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class FetchedMedia:
    """A downloaded media file, what the site said about it, and what probing the file found."""

    path: Path
    ytdlp_extractor: str  # yt-dlp's name for the site handler that read the page ("TikTok", "Generic")
    video_id: str | None
    title: str | None
    info: MediaInfo
    filesize: int
    webpage_url: str


class Downloader(Protocol):
    """Downloads the media behind a URL into a folder the caller owns. The file it returns has
    been probed once (a decodable, whole video within the size and duration limits): `info`."""

    def fetch(self, url: str, dest_dir: Path) -> FetchedMedia: ...


# ---- media ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class MediaInfo:
    """What decoding the file found."""

    duration_s: float
    has_audio: bool
    has_video: bool
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True)
class VisualSummary:
    """Measurable facts about the opening of a video, for the visual hook."""

    cuts_first_2s: int
    motion_first_2s: float  # mean absolute frame difference, 0..1
    text_overlay_first_2s: bool
    mean_brightness: float  # 0..1
    description: str


class MediaTools(Protocol):
    """Decoding helpers the pipeline uses: probe, audio to WAV, frames, visual summary."""

    def probe(self, path: Path) -> MediaInfo: ...

    def write_audio_wav(self, src: Path, dest_wav: Path) -> None: ...

    def visual_summary(self, path: Path, text_overlay: bool = False) -> VisualSummary: ...

    def key_frames(self, path: Path, dest_dir: Path, count: int) -> list[Path]: ...


# ---- transcription --------------------------------------------------------------------------

@dataclass(frozen=True)
class Segment:
    """A stretch of speech, with what Whisper reported about how sure it was (None when not reported)."""

    start: float
    end: float
    text: str
    avg_logprob: float | None = None  # mean log-probability of the segment's tokens
    no_speech_prob: float | None = None  # probability that the window held no speech
    compression_ratio: float | None = None  # text length / its gzip length: high means repetitive
    temperature: float | None = None  # 0 unless decoding fell back to sampling


@dataclass(frozen=True)
class Transcript:
    """Transcribed speech; `text` is empty when nothing was said.

    `language` is an ISO 639-1 code (None when unknown), `language_probability` how sure the
    language detection was, `confidence` (0-1) how sure the recogniser was of the words
    (`speech_confidence.py`); None when the engine reports nothing to judge it by.
    """

    text: str
    language: str | None
    segments: list[Segment] = field(default_factory=list)
    engine: str = ""
    language_probability: float | None = None
    confidence: float | None = None

    @property
    def has_speech(self) -> bool:
        return bool(self.text.strip())


class Transcriber(Protocol):
    """Turns an audio file (16 kHz mono WAV) into a transcript."""

    name: str

    def load(self) -> None:
        """Load what transcribing needs (the model); ConfigError when it cannot. Workers call it at start."""

    def transcribe(self, audio_path: Path) -> Transcript: ...


# ---- on-screen text -------------------------------------------------------------------------

@dataclass(frozen=True)
class ScreenText:
    """A line of on-screen text, first seen at `t` seconds."""

    t: float
    text: str
    confidence: float


class OcrReader(Protocol):
    """Reads on-screen text from the first and last seconds of a video, deduplicated across frames."""

    def read_screen(self, video_path: Path, head_s: float, tail_s: float) -> list[ScreenText]: ...


# ---- hook extraction ------------------------------------------------------------------------

class HookFamily(StrEnum):
    """Taxonomy of hooks; documented in docs/hooks.md."""

    PATTERN_INTERRUPT = "pattern_interrupt"
    RELATABLE_PAIN = "relatable_pain"
    CURIOSITY_GAP = "curiosity_gap"
    CONTRARIAN = "contrarian"
    SOCIAL_PROOF = "social_proof"
    BEFORE_AFTER = "before_after"
    POV_STORYTIME = "pov_storytime"
    QUESTION = "question"
    BOLD_CLAIM = "bold_claim"
    HOW_TO = "how_to"
    LISTICLE = "listicle"
    OFFER_URGENCY = "offer_urgency"
    UNBOXING_REACTION = "unboxing_reaction"


class HookPackage(BaseModel):
    """What a winning video does to grab attention and ask for the sale."""

    spoken_hook: str = Field(description="The opening line as spoken; empty when the video has no speech.")
    on_screen_hook: str | None = Field(description="Text shown on screen in the first seconds, if any.")
    visual_hook: str | None = Field(description="What the viewer sees in the first two seconds.")
    cta: str = Field(description="The call to action; empty when there is none.")
    hook_family: HookFamily
    structure_tags: list[str] = Field(description="Short tags for the video's structure, e.g. 'demo', 'testimonial'.")
    quality_score: int = Field(ge=0, le=100, description="How strong the hook package is, 0-100.")


@dataclass(frozen=True)
class ExtractionInput:
    """Everything known about a video when its hook package is extracted."""

    transcript: Transcript
    screen_text: list[ScreenText]
    visual: VisualSummary | None
    key_frames: list[Path] = field(default_factory=list)  # JPEGs of the opening, for vision models
    url: str = ""
    category: str | None = None
    speech_unclear: bool = False  # there was speech, below the quality gate: `transcript` holds none of it


class Extractor(Protocol):
    """Produces a HookPackage from what the earlier stages found."""

    name: str

    def extract(self, source: ExtractionInput) -> HookPackage: ...


# ---- storage --------------------------------------------------------------------------------

class Storage(Protocol):
    """Stores files under keys built from ids (never from titles or URLs)."""

    def put_file(self, key: str, src: Path) -> str: ...

    def put_bytes(self, key: str, data: bytes) -> str: ...

    def read_bytes(self, key: str) -> bytes: ...

    def local_path(self, key: str) -> Path: ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None:
        """Remove the file `key` names (and its folder once empty)."""

    def remove_tree(self, key: str) -> None:
        """Remove the folder `key` names, with everything in it."""
