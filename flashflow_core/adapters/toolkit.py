"""Picks the adapter implementations from settings, in one place, and builds each once per process.

`FLASHFLOW_TOOLKIT=real` (the default) uses yt-dlp, PyAV, Whisper, rapidocr and the configured
extractor; `instant` uses the stand-ins in `fakes.py` (for benchmarks of the orchestration).
"""

from __future__ import annotations

import threading
from typing import Any

from flashflow_core.adapters.base import Downloader, Extractor, MediaTools, OcrReader, Storage, Transcriber
from flashflow_core.config import Settings


class Toolkit:
    """The adapters one worker process uses, each built once, on first use (thread-safe)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._built: dict[str, Any] = {}

    def _get(self, name: str) -> Any:
        with self._lock:
            if name not in self._built:
                if self.settings.toolkit == "instant":
                    from flashflow_core.adapters import fakes

                    self._built[name] = getattr(fakes, f"instant_{name}")(self.settings)
                else:
                    self._built[name] = getattr(self, f"_real_{name}")()
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

    # ---- the real implementations ----------------------------------------------------------

    def _real_storage(self) -> Storage:
        from flashflow_core.adapters.storage import LocalStorage

        return LocalStorage(self.settings.media_root)

    def _real_downloader(self) -> Downloader:
        from flashflow_core.adapters.ytdlp import YtDlpDownloader

        return YtDlpDownloader(self.settings)

    def _real_media(self) -> MediaTools:
        from flashflow_core.adapters.media import PyAvMedia

        return PyAvMedia(self.settings)

    def _real_transcriber(self) -> Transcriber:
        backend = self.settings.transcriber
        if backend == "openai-whisper":
            from flashflow_core.adapters.transcribe_openai_whisper import OpenAIWhisperTranscriber

            return OpenAIWhisperTranscriber(self.settings)
        if backend == "openai":
            from flashflow_core.adapters.transcribe_openai import OpenAITranscriber

            return OpenAITranscriber(self.settings)
        from flashflow_core.adapters.transcribe_faster_whisper import FasterWhisperTranscriber

        return FasterWhisperTranscriber(self.settings)

    def _real_ocr(self) -> OcrReader:
        from flashflow_core.adapters.ocr import RapidOcrReader

        return RapidOcrReader(self.settings)

    def _real_extractor(self) -> Extractor:
        wants_openai = self.settings.extractor == "openai" or (
            self.settings.extractor == "auto" and self.settings.openai_api_key
        )
        if wants_openai:
            from flashflow_core.adapters.extract_openai import OpenAIExtractor

            return OpenAIExtractor(self.settings)
        from flashflow_core.adapters.extract_offline import OfflineExtractor

        return OfflineExtractor(self.settings)
