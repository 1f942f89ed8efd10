"""On-screen text of a video's first and last seconds, read with rapidocr and deduplicated across frames.

rapidocr's detection, recognition models and their ONNX runtime ship inside its wheel, so reading
needs no network. One engine is loaded per process and shared; calls into it are serialised
because onnxruntime already spreads one frame over the cores it is given.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

import numpy as np

from flashflow_core.adapters import media
from flashflow_core.adapters.base import ScreenText
from flashflow_core.config import Settings

log = logging.getLogger(__name__)

FRAMES_PER_SECOND = 2.0
# Captions are large; 960 px on the long side keeps them sharp while a 1080x1920 frame costs a
# quarter of the work. rapidocr's own default scales the *short* side up to 736, which would
# enlarge a 360x640 frame four times over for nothing.
MAX_SIDE = 960
MIN_CONFIDENCE = 0.75
# Two readings at least this similar (after normalising) are the same caption.
SAME_TEXT_RATIO = 0.8
# A frame whose coarse grid differs from the last read frame by less than this (0..1) in every
# cell shows the same picture, so its text is not read again.
_UNCHANGED_CELL_DIFF = 0.02

_engines: dict[int, Any] = {}
_engines_lock = threading.Lock()
_read_lock = threading.Lock()


def _engine(threads: int) -> Any:
    """The process's rapidocr engine for this thread count, built on first use."""
    with _engines_lock:
        if threads not in _engines:
            from rapidocr import RapidOCR

            started = time.monotonic()
            _engines[threads] = RapidOCR(params={
                "Global.log_level": "error",  # it warns on every frame without text
                "Global.use_cls": False,  # captions are upright; the angle classifier only costs time
                "Det.limit_type": "max",
                "Det.limit_side_len": MAX_SIDE,
                "EngineConfig.onnxruntime.intra_op_num_threads": threads,
                "EngineConfig.onnxruntime.inter_op_num_threads": 1,
            })
            log.info("ocr engine loaded", extra={"threads": threads, "load_s": round(time.monotonic() - started, 2)})
        return _engines[threads]


def sample_times(duration_s: float, head_s: float, tail_s: float, fps: float = FRAMES_PER_SECOND) -> list[float]:
    """Times to read: `fps` a second over the first `head_s` and the last `tail_s` seconds."""
    step = 1.0 / fps
    head = [i * step for i in range(int(np.ceil(min(head_s, duration_s) * fps)))]
    tail_start = max(0.0, duration_s - tail_s)
    tail = [tail_start + i * step for i in range(int(np.ceil((duration_s - tail_start) * fps)))] if tail_s > 0 else []
    return sorted({round(t, 3) for t in head + tail})


def normalise(text: str) -> str:
    """Case- and punctuation-insensitive form of a reading, for comparing captions."""
    return " ".join(re.sub(r"[^\w]+", " ", text.casefold()).split())


@dataclass
class _Caption:
    t: float
    key: str
    readings: dict[str, list[float]]  # text as read -> confidences

    def best(self) -> tuple[str, float]:
        text, scores = max(self.readings.items(), key=lambda item: (len(item[1]), max(item[1])))
        return text, max(scores)


def merge_readings(readings: Sequence[tuple[float, str, float]]) -> list[ScreenText]:
    """Fold (t, text, confidence) readings of many frames into one ScreenText per caption.

    Readings whose normalised forms are near-identical are one caption: it keeps the time it was
    first seen, the wording read most often (then the most confident) and its best confidence.
    """
    captions: list[_Caption] = []
    for t, text, score in sorted(readings, key=lambda r: r[0]):
        key = normalise(text)
        if not key:
            continue
        match = next((c for c in captions if SequenceMatcher(None, c.key, key).ratio() >= SAME_TEXT_RATIO), None)
        if match is None:
            captions.append(_Caption(t, key, {text: [score]}))
        else:
            match.readings.setdefault(text, []).append(score)
    result = []
    for caption in captions:
        text, score = caption.best()
        result.append(ScreenText(t=caption.t, text=text, confidence=round(score, 4)))
    return sorted(result, key=lambda s: s.t)


def _is_text(text: str, score: float) -> bool:
    return score >= MIN_CONFIDENCE and sum(ch.isalnum() for ch in text) >= 2


def _coarse(frame: np.ndarray) -> np.ndarray:
    h, w = frame.shape[:2]
    cells = frame[: h - h % 16, : w - w % 16].astype(np.float32) / 255.0
    return cells.reshape(16, (h - h % 16) // 16, 16, (w - w % 16) // 16, -1).mean(axis=(1, 3))


class RapidOcrReader:
    """OcrReader on rapidocr (PP-OCR models on onnxruntime, CPU)."""

    def __init__(self, settings: Settings) -> None:
        self.threads = max(1, (os.cpu_count() or 1) // settings.worker_threads)

    def read_frame(self, frame: np.ndarray) -> list[tuple[str, float]]:
        """The lines of text in one RGB frame with their confidences, junk dropped."""
        engine = _engine(self.threads)
        with _read_lock:
            # rapidocr treats arrays as OpenCV images, which are BGR.
            output = engine(np.ascontiguousarray(frame[:, :, ::-1]))
        if output.txts is None:
            return []
        return [(text.strip(), float(score)) for text, score in zip(output.txts, output.scores)
                if _is_text(text.strip(), float(score))]

    def read_screen(self, video_path: Path, head_s: float, tail_s: float) -> list[ScreenText]:
        """On-screen text of the first `head_s` and last `tail_s` seconds, one entry per caption."""
        started = time.monotonic()
        info = media.probe(video_path)
        times = sample_times(info.duration_s, head_s, tail_s)
        frames = media.sample_frames(video_path, times, max_side=MAX_SIDE)
        readings: list[tuple[float, str, float]] = []
        last_grid: np.ndarray | None = None
        last_lines: list[tuple[str, float]] = []
        read = 0
        for t, frame in frames:
            grid = _coarse(frame)
            if last_grid is None or grid.shape != last_grid.shape or np.abs(grid - last_grid).max() >= _UNCHANGED_CELL_DIFF:
                last_lines, last_grid = self.read_frame(frame), grid
                read += 1
            readings.extend((t, text, score) for text, score in last_lines)
        result = merge_readings(readings)
        log.info("screen text read", extra={
            "video": video_path.name, "frames": len(frames), "frames_read": read, "lines": len(result),
            "ocr_s": round(time.monotonic() - started, 2),
        })
        return result
