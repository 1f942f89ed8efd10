"""Instant stand-ins for the outside tools, selected by `FLASHFLOW_TOOLKIT=instant` (toolkit.py).

They let a benchmark measure the pipeline's orchestration (database, broker, state changes)
without the cost of downloading, decoding or transcribing. They are never the default.
"""

from __future__ import annotations

from pathlib import Path

from flashflow_core.adapters.base import (
    ExtractionInput,
    FetchedMedia,
    HookFamily,
    HookPackage,
    MediaInfo,
    ScreenText,
    Segment,
    Transcript,
    VisualSummary,
)

_SPEECH = "Stop scrolling if you have dry skin. Tap the orange cart to get yours today."


class InstantDownloader:
    """Writes a small placeholder file instead of downloading."""

    def fetch(self, url: str, dest_dir: Path) -> FetchedMedia:
        path = dest_dir / "video.mp4"
        path.write_bytes(b"\x00" * 64)
        return FetchedMedia(path, "instant", None, None, InstantMedia().probe(path), 64, url)


class InstantMedia:
    """Answers as if every file were an 8-second video with sound."""

    def probe(self, path: Path) -> MediaInfo:
        return MediaInfo(duration_s=8.0, has_audio=True, has_video=True, width=360, height=640)

    def write_audio_wav(self, src: Path, dest_wav: Path) -> None:
        dest_wav.write_bytes(b"\x00" * 64)

    def visual_summary(self, path: Path, text_overlay: bool = False) -> VisualSummary:
        return VisualSummary(1, 0.2, text_overlay, 0.5, "a cut in the first second")

    def key_frames(self, path: Path, dest_dir: Path, count: int) -> list[Path]:
        return []


class InstantTranscriber:
    name = "instant"

    def load(self) -> None:
        """Nothing to load."""

    def transcribe(self, audio_path: Path) -> Transcript:
        return Transcript(_SPEECH, "en", [Segment(0.0, 4.0, _SPEECH)], engine="instant")


class InstantOcr:
    def read_screen(self, video_path: Path, head_s: float, tail_s: float) -> list[ScreenText]:
        return [ScreenText(0.5, "DRY SKIN FIX", 0.99)]


class InstantExtractor:
    name = "instant"

    def extract(self, source: ExtractionInput) -> HookPackage:
        return HookPackage(
            spoken_hook="Stop scrolling if you have dry skin.", on_screen_hook="DRY SKIN FIX",
            visual_hook="a cut in the first second", cta="Tap the orange cart to get yours today.",
            hook_family=HookFamily.PATTERN_INTERRUPT, structure_tags=["instant"], quality_score=50,
        )


class InstantStorage:
    """Keeps files in memory: orchestration benchmarks measure the database and broker, not disks."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}

    def put_file(self, key: str, src: Path) -> str:
        self.files[key] = Path(src).read_bytes()
        return key

    def put_bytes(self, key: str, data: bytes) -> str:
        self.files[key] = data
        return key

    def read_bytes(self, key: str) -> bytes:
        return self.files[key]

    def local_path(self, key: str) -> Path:
        return Path("/instant-storage") / key

    def exists(self, key: str) -> bool:
        return key in self.files

    def delete(self, key: str) -> None:
        self.files.pop(key, None)

    def remove_tree(self, key: str) -> None:
        for name in [k for k in self.files if k == key or k.startswith(key + "/")]:
            del self.files[name]
