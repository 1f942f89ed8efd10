"""Picks the adapter implementations from settings, in one place, and builds each once per process.

`FLASHFLOW_TOOLKIT=real` (the default) uses yt-dlp, PyAV, Whisper, rapidocr and the configured
extractor; `instant` uses the stand-ins in `fakes.py` (for benchmarks of the orchestration).
The choice is made by the plain tables below — toolkit -> adapter -> constructor, and
`FLASHFLOW_TRANSCRIBER` / `FLASHFLOW_EXTRACTOR` -> constructor — so searching for a class finds
where it is built. The real constructors import their tool on first use: a worker that never
transcribes never loads Whisper.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from flashflow_core.adapters import fakes
from flashflow_core.adapters.base import Downloader, Extractor, MediaTools, OcrReader, Storage, Transcriber
from flashflow_core.config import Settings

Builder = Callable[[Settings], Any]


# ---- the real implementations ---------------------------------------------------------------------


def local_storage(settings: Settings) -> Storage:
    from flashflow_core.adapters.storage import LocalStorage

    return LocalStorage(settings.media_root)


def ytdlp_downloader(settings: Settings) -> Downloader:
    from flashflow_core.adapters.ytdlp import YtDlpDownloader

    return YtDlpDownloader(settings)


def pyav_media(settings: Settings) -> MediaTools:
    from flashflow_core.adapters.media import PyAvMedia

    return PyAvMedia(settings)


def faster_whisper_transcriber(settings: Settings) -> Transcriber:
    from flashflow_core.adapters.transcribe_faster_whisper import FasterWhisperTranscriber

    return FasterWhisperTranscriber(settings)


def openai_whisper_transcriber(settings: Settings) -> Transcriber:
    from flashflow_core.adapters.transcribe_openai_whisper import OpenAIWhisperTranscriber

    return OpenAIWhisperTranscriber(settings)


def openai_transcriber(settings: Settings) -> Transcriber:
    from flashflow_core.adapters.transcribe_openai import OpenAITranscriber

    return OpenAITranscriber(settings)


def rapidocr_reader(settings: Settings) -> OcrReader:
    from flashflow_core.adapters.ocr import RapidOcrReader

    return RapidOcrReader(settings)


def openai_extractor(settings: Settings) -> Extractor:
    from flashflow_core.adapters.extract_openai import OpenAIExtractor

    return OpenAIExtractor(settings)


def offline_extractor(settings: Settings) -> Extractor:
    from flashflow_core.adapters.extract_offline import OfflineExtractor

    return OfflineExtractor(settings)


#: FLASHFLOW_TRANSCRIBER -> constructor.
TRANSCRIBERS: dict[str, Builder] = {
    "faster-whisper": faster_whisper_transcriber,
    "openai-whisper": openai_whisper_transcriber,
    "openai": openai_transcriber,
}
#: The extractor a resolved FLASHFLOW_EXTRACTOR names -> constructor (see `extractor_name`).
EXTRACTORS: dict[str, Builder] = {
    "openai": openai_extractor,
    "offline": offline_extractor,
}


def extractor_name(settings: Settings) -> str:
    """`auto` means OpenAI when an API key is set, else the offline extractor."""
    if settings.extractor == "auto":
        return "openai" if settings.openai_api_key else "offline"
    return settings.extractor


#: FLASHFLOW_TOOLKIT -> adapter name -> constructor.
TOOLKITS: dict[str, dict[str, Builder]] = {
    "real": {
        "storage": local_storage,
        "downloader": ytdlp_downloader,
        "media": pyav_media,
        "transcriber": lambda settings: TRANSCRIBERS[settings.transcriber](settings),
        "ocr": rapidocr_reader,
        "extractor": lambda settings: EXTRACTORS[extractor_name(settings)](settings),
    },
    "instant": {
        "storage": lambda settings: fakes.InstantStorage(),
        "downloader": lambda settings: fakes.InstantDownloader(),
        "media": lambda settings: fakes.InstantMedia(),
        "transcriber": lambda settings: fakes.InstantTranscriber(),
        "ocr": lambda settings: fakes.InstantOcr(),
        "extractor": lambda settings: fakes.InstantExtractor(),
    },
}


class Toolkit:
    """The adapters one worker process uses, each built once, on first use (thread-safe)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._builders = TOOLKITS[settings.toolkit]
        self._lock = threading.Lock()
        self._built: dict[str, Any] = {}

    def _get(self, name: str) -> Any:
        with self._lock:
            if name not in self._built:
                self._built[name] = self._builders[name](self.settings)
            return self._built[name]

    @property
    def storage(self) -> Storage:
        return self._get("storage")

    @property
    def downloader(self) -> Downloader:
        return self._get("downloader")

    @property
    def media(self) -> MediaTools:
        return self._get("media")

    @property
    def transcriber(self) -> Transcriber:
        return self._get("transcriber")

    @property
    def ocr(self) -> OcrReader:
        return self._get("ocr")

    @property
    def extractor(self) -> Extractor:
        return self._get("extractor")
